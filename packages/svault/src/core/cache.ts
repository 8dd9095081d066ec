import { applyBatch, type Storage, type StorageOp } from './storage.js';
import { VersionedCache } from './versioned-cache.js';

export interface CacheLimits {
  /** Bytes of cached values (default 32 MiB). */
  maxBytes?: number;
  /** Cached keys, present or known absent (default 100,000). */
  maxEntries?: number;
}

/**
 * A read cache in front of physical storage, as Vault's physical cache: it holds what storage
 * holds, i.e. ciphertext under encrypted names, never plaintext. Writes go through and update
 * it; a first-in-first-out bound keeps it small. It assumes it is the only writer of the storage, which holds
 * for the filesystem backend (one server or daemon per data directory) and for the active node of
 * a shared backend (PostgreSQL, etcd) in HA. Other nodes write while a node is sealed or standby,
 * so HA turns caching off there (`enabled = false`: reads and writes pass through) and back on,
 * empty, when the node becomes active.
 *
 * A read that raced with a write is not cached (see VersionedCache).
 */
export class CachedStorage implements Storage {
  readonly type: string;
  private readonly cache: VersionedCache<string, Uint8Array | null>;
  private caching = true;
  private readonly load = async (key: string) => (await this.inner.get(key)) ?? null;

  constructor(
    private readonly inner: Storage,
    limits: CacheLimits = {},
  ) {
    this.type = inner.type;
    this.cache = new VersionedCache({
      maxBytes: limits.maxBytes ?? 32 * 1024 * 1024,
      maxEntries: limits.maxEntries ?? 100_000,
      sizeOf: (v) => v?.length ?? 0,
    });
  }

  get hits(): number {
    return this.cache.hits;
  }

  get misses(): number {
    return this.cache.misses;
  }

  get enabled(): boolean {
    return this.caching;
  }

  /** Off: everything passes through and the cache is emptied; on again: it starts empty. */
  set enabled(on: boolean) {
    this.caching = on;
    // A read in flight across the switch is not cached either.
    this.cache.clear();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    if (!this.caching) return this.inner.get(key);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    return (await this.cache.read(key, this.load)) ?? undefined;
  }

  put(key: string, value: Uint8Array): Promise<void> {
    return this.cache.write([key], async () => {
      await this.inner.put(key, value);
      if (this.caching) this.cache.set(key, value);
    });
  }

  delete(key: string): Promise<void> {
    return this.cache.write([key], async () => {
      await this.inner.delete(key);
      if (this.caching) this.cache.set(key, null);
    });
  }

  batch(ops: StorageOp[]): Promise<void> {
    return this.cache.write(
      ops.map((o) => o.key),
      async () => {
        await applyBatch(this.inner, ops);
        if (this.caching) for (const o of ops) this.cache.set(o.key, o.op === 'put' ? o.value : null);
      },
    );
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.inner.close?.();
  }
}
