import type { Cubbyholes } from './engines/cubbyhole.js';
import { invalid } from './errors.js';
import type { LogicalResponse, WrapInfo } from './logical.js';
import { KeyedMutex } from './storage.js';
import { SYSTEM_MAX_TTL, type TokenEntry, type TokenStore } from './tokens.js';

/** The built-in policy of wrapping tokens (Vault's `response-wrapping`): unwrap, nothing else. */
export const RESPONSE_WRAPPING_POLICY_NAME = 'response-wrapping';
export const RESPONSE_WRAPPING_POLICY = `path "cubbyhole/response" {
  capabilities = ["create", "read"]
}
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
`;

const NOT_VALID = 'wrapping token is not valid or does not exist';

/**
 * Response wrapping, as Vault's: the response goes into the cubbyhole of a new single-purpose
 * token (orphan, `response-wrapping` policy only, the requested TTL), and the client gets that
 * token instead of the response. Unwrapping returns the response once and revokes the token (its
 * cubbyhole goes with it); a second unwrap, or one after the TTL, finds nothing: 400.
 */
export class ResponseWrapper {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly tokens: TokenStore,
    private readonly holes: Cubbyholes,
  ) {}

  /** A wrap TTL as asked for (header or field): whole seconds, 1 s to the system max. */
  static parseTtl(ttl: number | undefined): number {
    if (ttl === undefined || !Number.isFinite(ttl) || ttl < 1) throw invalid('invalid wrap TTL: must be at least 1s');
    if (ttl > SYSTEM_MAX_TTL) throw invalid(`wrap TTL exceeds the system max TTL of ${SYSTEM_MAX_TTL}s`);
    return Math.floor(ttl);
  }

  async wrap(response: LogicalResponse, ttl: number, creationPath: string): Promise<WrapInfo> {
    const { token, entry } = await this.tokens.create({
      policies: [RESPONSE_WRAPPING_POLICY_NAME],
      noDefaultPolicy: true,
      ttl,
      renewable: false,
      parent: '',
      path: creationPath,
      rawDisplayName: '',
    });
    const creationTime = new Date(entry.created_ms).toISOString();
    const stored: Pick<LogicalResponse, 'data' | 'auth' | 'lease' | 'warnings'> = {
      ...(response.data !== undefined ? { data: response.data } : {}),
      ...(response.auth ? { auth: response.auth } : {}),
      ...(response.lease ? { lease: response.lease } : {}),
      ...(response.warnings ? { warnings: response.warnings } : {}),
    };
    try {
      await this.holes.put(entry.hash, 'response', { response: JSON.stringify(stored) });
      await this.holes.put(entry.hash, 'wrapinfo', {
        creation_path: creationPath,
        creation_time: creationTime,
        creation_ttl: ttl,
      });
    } catch (e) {
      await this.tokens.revokeTree(entry.hash);
      throw e;
    }
    return {
      token,
      accessor: entry.accessor,
      ttl,
      creation_time: creationTime,
      creation_path: creationPath,
      wrapped_accessor: response.auth?.accessor ?? '',
    };
  }

  /** The wrapped response, once; the token is revoked before the response is handed back. */
  async unwrap(token: string): Promise<LogicalResponse> {
    const { entry } = await this.wrapping(token);
    return this.locks.run(entry.hash, async () => {
      const live = await this.tokens.lookupByHash(entry.hash);
      const held = live && (await this.holes.get(entry.hash, 'response'));
      if (!held || typeof held.response !== 'string') throw invalid(NOT_VALID);
      await this.tokens.revokeTree(entry.hash);
      return JSON.parse(held.response) as LogicalResponse;
    });
  }

  async lookup(token: string): Promise<{ creation_path: string; creation_time: string; creation_ttl: number }> {
    const { info } = await this.wrapping(token);
    return info;
  }

  /** A new wrapping token for the same response and TTL; the old one stops working. */
  async rewrap(token: string): Promise<WrapInfo> {
    const { info } = await this.wrapping(token);
    const response = await this.unwrap(token);
    return this.wrap(response, info.creation_ttl, info.creation_path);
  }

  private async wrapping(token: string) {
    const entry = token ? await this.tokens.lookup(token) : undefined;
    const info = entry && isWrappingToken(entry) ? await this.holes.get(entry.hash, 'wrapinfo') : undefined;
    if (!entry || !info) throw invalid(NOT_VALID);
    return {
      entry,
      info: info as { creation_path: string; creation_time: string; creation_ttl: number },
    };
  }
}

function isWrappingToken(e: TokenEntry): boolean {
  return e.policies.length === 1 && e.policies[0] === RESPONSE_WRAPPING_POLICY_NAME;
}
