/** Exit codes shared by every StratumIOps binary (ARCHITECTURE.md, "Conventions"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  validation: 3,
  notFound: 4,
  denied: 5,
  conflict: 6,
  unavailable: 7,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

export interface StratumErrorOptions {
  /** What the user can do about it; printed after the message. */
  hint?: string;
  /** Structured details for `--json` output (never secrets). */
  details?: Record<string, unknown>;
  /** A multi-line rendering for people, shown instead of the one line (e.g. a contract violation). */
  display?: string;
  cause?: unknown;
}

/** The one error type commands throw: it carries its exit code and a hint. */
export class StratumError extends Error {
  readonly code: ExitCodeName;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly display: string | undefined;

  constructor(code: ExitCodeName, message: string, opts: StratumErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StratumError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details;
    this.display = opts.display;
  }

  get exitCode(): number {
    return ExitCode[this.code];
  }
}

export const usageError = (message: string, opts?: StratumErrorOptions) => new StratumError('usage', message, opts);
export const validationError = (message: string, opts?: StratumErrorOptions) =>
  new StratumError('validation', message, opts);
export const notFoundError = (message: string, opts?: StratumErrorOptions) =>
  new StratumError('notFound', message, opts);
export const conflictError = (message: string, opts?: StratumErrorOptions) =>
  new StratumError('conflict', message, opts);
export const deniedError = (message: string, opts?: StratumErrorOptions) => new StratumError('denied', message, opts);
export const unavailableError = (message: string, opts?: StratumErrorOptions) =>
  new StratumError('unavailable', message, opts);

/** A normalised view of any thrown value, as the top-level handler prints it. */
export interface ErrorReport {
  code: ExitCodeName;
  exitCode: number;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
  /** Human rendering replacing the one line on stderr (not part of the JSON document). */
  display?: string;
}

interface OclifLikeError {
  message: string;
  oclif?: { exit?: number | false };
  code?: string;
}

const codeByExit = Object.fromEntries(Object.entries(ExitCode).map(([k, v]) => [v, k])) as Record<number, ExitCodeName>;

/** Turns any error (ours, oclif's parse errors, or an unexpected one) into a report. */
/** `usageHint` is shown with usage errors, e.g. "see 'svault kv get --help'". */
export function toErrorReport(err: unknown, usageHint?: string): ErrorReport {
  if (err instanceof StratumError) {
    return {
      code: err.code,
      exitCode: err.exitCode,
      message: err.message,
      ...(err.hint ? { hint: err.hint } : {}),
      ...(err.details ? { details: err.details } : {}),
      ...(err.display ? { display: err.display } : {}),
    };
  }
  const e = err as OclifLikeError;
  if (e && typeof e === 'object' && e.oclif && typeof e.oclif.exit === 'number') {
    // oclif parse errors (unknown flag, missing arg...) are usage errors with a multi-line text.
    const exitCode = e.oclif.exit;
    const lines = String(e.message ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^see more help with/i.test(l));
    // "Missing 1 required arg:" then "name  description" lines: "...arg: name (description)".
    let message = '';
    let listing = false;
    for (const line of lines) {
      const item = line.replace(/^(\S+)\s{2,}(.+)$/, '$1 ($2)');
      if (!message) message = line;
      else if (message.endsWith(':')) {
        message += ` ${item}`;
        listing = true;
      } else if (listing && item !== line) message += `, ${item}`;
      else {
        message += `; ${line}`;
        listing = false;
      }
    }
    return {
      code: codeByExit[exitCode] ?? 'failure',
      exitCode,
      message: message || 'invalid usage',
      ...(exitCode === ExitCode.usage && usageHint ? { hint: usageHint } : {}),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'failure', exitCode: ExitCode.failure, message: message || 'unexpected error' };
}

/** One line for stderr: "<bin>: <message> (hint)". */
export function formatErrorLine(report: ErrorReport, bin: string): string {
  if (report.display) return report.display;
  const msg = report.message.replace(/\s*\n\s*/g, ' ');
  return `${bin}: ${msg}${report.hint ? ` (${report.hint})` : ''}`;
}
