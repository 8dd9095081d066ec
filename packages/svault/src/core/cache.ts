import { applyBatch, type Storage, type StorageOp } from './storage.js';

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
 * A read that raced with a write (any write: a global counter, so no per-key bookkeeping) is not
 * cached, so a slow read of the old value can never overwrite the new one.
 */
export class CachedStorage implements Storage {
  readonly type: string;
  private readonly entries = new Map<string, Uint8Array | null>();
  private bytes = 0;
  private mutations = 0;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  hits = 0;
  misses = 0;
  private caching = true;

  constructor(
    private readonly inner: Storage,
    limits: CacheLimits = {},
  ) {
    this.type = inner.type;
    this.maxBytes = limits.maxBytes ?? 32 * 1024 * 1024;
    this.maxEntries = limits.maxEntries ?? 100_000;
  }

  get enabled(): boolean {
    return this.caching;
  }

  /** Off: everything passes through and the cache is emptied; on again: it starts empty. */
  set enabled(on: boolean) {
    this.caching = on;
    // A read in flight across the switch is not cached either.
    this.mutations++;
    this.entries.clear();
    this.bytes = 0;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    if (!this.caching) return this.inner.get(key);
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // First in, first out: no reordering on a hit (it would cost every read two map updates).
      this.hits++;
      return hit ?? undefined;
    }
    this.misses++;
    const before = this.mutations;
    const v = await this.inner.get(key);
    if (this.mutations === before) this.remember(key, v ?? null);
    return v;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.mutations++;
    this.forget(key);
    try {
      await this.inner.put(key, value);
      this.remember(key, value);
    } finally {
      this.mutations++;
    }
  }

  async delete(key: string): Promise<void> {
    this.mutations++;
    this.forget(key);
    try {
      await this.inner.delete(key);
      this.remember(key, null);
    } finally {
      this.mutations++;
    }
  }

  async batch(ops: StorageOp[]): Promise<void> {
    this.mutations++;
    for (const o of ops) this.forget(o.key);
    try {
      await applyBatch(this.inner, ops);
      for (const o of ops) this.remember(o.key, o.op === 'put' ? o.value : null);
    } finally {
      this.mutations++;
    }
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
    await this.inner.close?.();
  }

  private remember(key: string, v: Uint8Array | null): void {
    this.forget(key);
    if (!this.caching) return;
    const size = v?.length ?? 0;
    if (size > this.maxBytes / 16) return; // a huge value would push out everything else
    this.entries.set(key, v);
    this.bytes += size;
    while (this.bytes > this.maxBytes || this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.forget(oldest.value);
    }
  }

  private forget(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.bytes -= old?.length ?? 0;
    this.entries.delete(key);
  }
}
