import type { LogicalStore } from '../barrier.js';
import { invalid } from '../errors.js';
import type { Backend, HandlerResult, PathDef, RoutedRequest } from '../logical.js';
import { isBatchToken } from '../tokens.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Every token's private storage, as Vault's cubbyhole: stored under the token's hash, reachable only
 * with that token, and destroyed with it (the token store calls `destroy` on revocation or expiry).
 */
export class Cubbyholes {
  constructor(private readonly store: LogicalStore) {}

  async get(owner: string, path: string): Promise<Record<string, unknown> | undefined> {
    const raw = await this.store.get(`${owner}/${path}`);
    return raw ? (JSON.parse(dec.decode(raw)) as Record<string, unknown>) : undefined;
  }

  async put(owner: string, path: string, data: Record<string, unknown>): Promise<void> {
    await this.store.put(`${owner}/${path}`, enc.encode(JSON.stringify(data)));
  }

  async delete(owner: string, path: string): Promise<void> {
    await this.store.delete(`${owner}/${path}`);
  }

  async list(owner: string, prefix: string): Promise<string[]> {
    return this.store.list(`${owner}/${prefix}`);
  }

  /** Removes everything a token kept. */
  async destroy(owner: string, prefix = ''): Promise<void> {
    for (const k of await this.store.list(`${owner}/${prefix}`)) {
      if (k.endsWith('/')) await this.destroy(owner, prefix + k);
      else await this.store.delete(`${owner}/${prefix}${k}`);
    }
  }
}

/** The `cubbyhole/` mount: read, write, list and delete in the calling token's own cubbyhole. */
export class CubbyholeBackend implements Backend {
  readonly type = 'cubbyhole';
  readonly paths: PathDef[];

  constructor(holes: Cubbyholes) {
    const owner = (r: RoutedRequest) => {
      if (!r.caller.tokenHash) throw invalid('client token empty');
      // Nothing is stored for a batch token, so nothing could clean its cubbyhole up: none, as in Vault.
      if (isBatchToken(r.caller.token)) throw invalid('batch tokens have no cubbyhole');
      return r.caller.tokenHash;
    };
    const key = (r: RoutedRequest) => {
      const p = r.params.path as string;
      if (p === '' || p.endsWith('/')) throw invalid('missing path');
      return p;
    };
    const write = async (r: RoutedRequest): Promise<HandlerResult> => {
      if (Object.keys(r.data).length === 0) throw invalid('missing data fields');
      await holes.put(owner(r), key(r), r.data);
      return undefined;
    };
    this.paths = [
      {
        pattern: /^(?<path>.*)$/,
        summary: "Read, write, list or delete a secret in the calling token's cubbyhole",
        operations: {
          read: async (r): Promise<HandlerResult> => {
            const data = await holes.get(owner(r), key(r));
            return data ? { data } : null;
          },
          update: write,
          create: write,
          delete: async (r): Promise<HandlerResult> => {
            await holes.delete(owner(r), key(r));
            return undefined;
          },
          list: async (r): Promise<HandlerResult> => {
            const keys = await holes.list(owner(r), r.params.path as string);
            return keys.length ? { data: { keys: keys.sort() } } : null;
          },
        },
      },
    ];
  }
}
