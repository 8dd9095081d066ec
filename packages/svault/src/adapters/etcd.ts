import { Etcd3, EtcdLeaseInvalidError, type Lease, Range } from 'etcd3';
import type { HaLockBackend, HaStorage } from '../core/ha.js';
import { assertValidKey, lastOpPerKey, type Storage, type StorageOp } from '../core/storage.js';

export interface EtcdOptions {
  /** Client URLs, e.g. http://127.0.0.1:2379. */
  endpoints: string[];
  /** Every key lives under this prefix (ends with '/'). */
  prefix?: string;
  username?: string;
  password?: string;
  /** Offer the HA lock (`ha_enabled`). */
  haEnabled?: boolean;
}

/** etcd's default limit on operations in one transaction (--max-txn-ops). */
const MAX_TXN_OPS = 128;
/** Keys per range read while listing. */
const LIST_PAGE = 1000;

/**
 * Storage in etcd (v3 API), one etcd key per storage key under a prefix, as Vault's etcd backend.
 * Listing reads the keys (not the values) under the folder in pages and jumps over each
 * sub-folder once it has been seen. A batch is one etcd transaction (etcd caps those at 128
 * operations: longer batches go as consecutive transactions, in order, so a failure keeps a
 * prefix of them). The HA lock is a key outside the data prefix, bound to a lease.
 */
export class EtcdStorage implements Storage, HaStorage {
  readonly type = 'etcd';
  readonly ha: HaLockBackend | undefined;
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly lockKey: string;
  /** The lease behind the lock, per identity holding it through this storage. */
  private readonly leases = new Map<string, Lease>();
  private readonly endpoints: string[];
  private closed = false;

  constructor(opts: EtcdOptions) {
    this.endpoints = opts.endpoints;
    if (opts.endpoints.length === 0) throw new Error('[storage.etcd] needs endpoints = ["http://host:2379", ...]');
    for (const e of opts.endpoints) {
      if (!/^https?:\/\/[^/]+\/?$/.test(e))
        throw new Error(`[storage.etcd] endpoint "${e}" must look like http://host:2379`);
    }
    this.prefix = opts.prefix ?? '/svault/';
    if (!this.prefix.endsWith('/')) throw new Error(`[storage.etcd] prefix "${this.prefix}" must end with '/'`);
    // Next to the data, never inside it: no storage key can collide with it.
    this.lockKey = `${this.prefix.slice(0, -1)}.ha-lock`;
    this.client = new Etcd3({
      hosts: opts.endpoints,
      ...(opts.username ? { auth: { username: opts.username, password: opts.password ?? '' } } : {}),
      dialTimeout: 10_000,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 10_000 }),
    });
    if (opts.haEnabled) this.ha = this.lockBackend();
  }

  /** Checks that etcd answers, so a wrong endpoint fails at start. */
  async open(): Promise<void> {
    try {
      await this.client.get(this.lockKey).exec();
    } catch (e) {
      throw new Error(`etcd storage at ${this.endpoints.join(', ')}: ${(e as Error).message}`);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertValidKey(key);
    const v = await this.client.get(this.prefix + key).buffer();
    // A copy: the driver's buffer may be a slice of a larger one that would stay alive with it.
    return v ? new Uint8Array(v) : undefined;
  }

  put(key: string, value: Uint8Array): Promise<void> {
    return this.batch([{ op: 'put', key, value }]);
  }

  delete(key: string): Promise<void> {
    return this.batch([{ op: 'delete', key }]);
  }

  async batch(ops: StorageOp[]): Promise<void> {
    // etcd refuses a key twice in one transaction: the last operation on each key wins.
    const all = lastOpPerKey(ops);
    for (let i = 0; i < all.length; i += MAX_TXN_OPS) {
      const chunk = all
        .slice(i, i + MAX_TXN_OPS)
        .map((o) =>
          o.op === 'put'
            ? this.client
                .put(this.prefix + o.key)
                .value(Buffer.from(o.value.buffer, o.value.byteOffset, o.value.byteLength))
            : this.client.delete().key(this.prefix + o.key),
        );
      try {
        // A transaction with a condition that always holds (a version is never negative).
        await this.client
          .if(this.prefix + (all[i] as StorageOp).key, 'Version', '>', -1)
          .then(...chunk)
          .commit();
      } catch (e) {
        if (/request is too large/.test((e as Error).message)) {
          throw new Error('value too large for etcd (its --max-request-bytes limit, 1.5 MiB unless raised)');
        }
        throw e;
      }
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidKey(prefix, { prefix: true });
    const base = this.prefix + prefix;
    const end = `${base.slice(0, -1)}0`; // '/' + 1: just past every key under base
    const out = new Set<string>();
    let start = base;
    for (;;) {
      const keys = await this.client.getAll().inRange(new Range(start, end)).limit(LIST_PAGE).keys();
      let folder = '';
      for (const k of keys) {
        if (folder && k.startsWith(folder)) continue;
        const rest = k.slice(base.length);
        const slash = rest.indexOf('/');
        if (slash < 0) out.add(rest);
        else {
          out.add(rest.slice(0, slash + 1));
          folder = base + rest.slice(0, slash + 1);
        }
      }
      if (keys.length < LIST_PAGE) break;
      const lastKey = keys.at(-1) as string;
      // Past the folder the page ended in, or just past the last key.
      start = folder && lastKey.startsWith(folder) ? `${folder.slice(0, -1)}0` : `${lastKey}\0`;
    }
    return [...out].sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lease of this.leases.values()) await lease.revoke().catch(() => {});
    this.leases.clear();
    this.client.close();
  }

  /** The lock: a key created only if absent, on a lease that expires unless renewed. */
  private lockBackend(): HaLockBackend {
    const holder = async () => {
      const raw = await this.client.get(this.lockKey).string();
      return raw ? (JSON.parse(raw) as { id: string; value: string }) : undefined;
    };
    const renew = async (id: string) => {
      const lease = this.leases.get(id);
      if (!lease) return false;
      try {
        await lease.keepaliveOnce();
      } catch (e) {
        if (!(e instanceof EtcdLeaseInvalidError)) throw e;
        this.leases.delete(id);
        return false;
      }
      return (await holder())?.id === id;
    };
    return {
      acquire: async (id, value, ttlMs) => {
        if (this.leases.has(id) && (await renew(id))) return true;
        if (await holder()) return false;
        const lease = this.client.lease(Math.max(1, Math.ceil(ttlMs / 1000)), { autoKeepAlive: false });
        try {
          const r = await this.client
            .if(this.lockKey, 'Create', '==', 0)
            .then(lease.put(this.lockKey).value(JSON.stringify({ id, value })))
            .commit();
          if (r.succeeded) {
            this.leases.set(id, lease);
            return true;
          }
        } catch (e) {
          await lease.revoke().catch(() => {});
          throw e;
        }
        await lease.revoke().catch(() => {});
        return false;
      },
      renew,
      release: async (id) => {
        const lease = this.leases.get(id);
        this.leases.delete(id);
        await lease?.revoke(); // deletes the lock key with it
      },
      holder,
    };
  }
}
