/**
 * Errors of the logical layer. Each kind maps to one HTTP status (Vault's) and one CLI
 * exit code (ARCHITECTURE.md), so the server and the CLI agree on what went wrong.
 */
export type VaultErrorKind =
  | 'invalid' // 400
  | 'denied' // 403
  | 'notFound' // 404
  | 'unsupported' // 405
  | 'conflict' // 400 in Vault (CAS), exit 6 on the CLI
  | 'tooLarge' // 413
  | 'sealed' // 503
  | 'internal'; // 500

export const httpStatusOf: Record<VaultErrorKind, number> = {
  invalid: 400,
  denied: 403,
  notFound: 404,
  unsupported: 405,
  conflict: 400,
  tooLarge: 413,
  sealed: 503,
  internal: 500,
};

export class VaultError extends Error {
  readonly kind: VaultErrorKind;
  /** Extra messages for `{"errors": [...]}`; the first is `message`. */
  readonly errors: string[];
  /** A response body to send with the error status (KV v2: reading a deleted version). */
  readonly body: Record<string, unknown> | undefined;

  constructor(kind: VaultErrorKind, message: string, opts: { body?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VaultError';
    this.kind = kind;
    this.errors = message ? [message] : [];
    this.body = opts.body;
  }

  get status(): number {
    return httpStatusOf[this.kind];
  }
}

export const invalid = (m: string) => new VaultError('invalid', m);
export const denied = () => new VaultError('denied', 'permission denied');
export const sealedError = () => new VaultError('sealed', 'Vault is sealed');
