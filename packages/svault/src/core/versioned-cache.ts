/**
 * A bounded in-memory cache of what a store holds, for a process that is that store's only
 * writer (the storage cache in front of a backend, token entries, KV metadata, transit keys,
 * ACL decisions). Writes go through `write`: the keys are forgotten before the store changes,
 * and a read that overlapped any write is not remembered (a global version, so no per-key
 * bookkeeping): a slow read of the old value can never overwrite the new one.
 *
 * Bounds: a number of entries and optionally bytes (with `sizeOf`); past them the oldest entries
 * go first (first in, first out: a hit does not reorder, which would cost every read two map
 * updates). `undefined` is never a value: it means "not cached" (store `null` for "known absent").
 */
export interface CacheBounds<V> {
  /** Entries kept (default: no limit). */
  maxEntries?: number;
  /** Bytes of values kept, as `sizeOf` counts them (default: no limit). */
  maxBytes?: number;
  sizeOf?: (value: V) => number;
}

export class VersionedCache<K, V> {
  private readonly entries = new Map<K, V>();
  private bytes = 0;
  private version = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly sizeOf: ((value: V) => number) | undefined;
  hits = 0;
  misses = 0;

  constructor(bounds: CacheBounds<V> = {}) {
    this.maxEntries = bounds.maxEntries ?? Number.POSITIVE_INFINITY;
    this.maxBytes = bounds.maxBytes ?? Number.POSITIVE_INFINITY;
    this.sizeOf = bounds.sizeOf;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, or undefined; no loading, no counting. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  /**
   * The cached value (counted as a hit), or undefined. Hot paths ask this first and call `read`
   * only on a miss: answering a hit without another await saves a turn of the event loop.
   */
  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) this.hits++;
    return hit;
  }

  /**
   * The cached value, else `load(key)`'s, remembered when no write overlapped the load and `keep`
   * accepts it (e.g. not unknown tokens: random guesses must not fill the cache). Pass a stable
   * function as `load`: a hit then allocates nothing.
   */
  async read(key: K, load: (key: K) => Promise<V>, keep?: (value: V) => boolean): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    this.misses++;
    const before = this.version;
    const value = await load(key);
    if (this.version === before && (keep === undefined || keep(value))) this.set(key, value);
    return value;
  }

  /**
   * Runs a write of the store: `keys` are forgotten first, and no read that overlaps it is
   * remembered. `run` may `set` the values it wrote once the store has them.
   */
  async write<T>(keys: Iterable<K>, run: () => Promise<T>): Promise<T> {
    this.version++;
    for (const k of keys) this.delete(k);
    try {
      return await run();
    } finally {
      this.version++;
    }
  }

  /** Remembers a value the caller knows to be the store's (just written, or just computed from it). */
  set(key: K, value: V): void {
    this.delete(key);
    const size = this.sizeOf ? this.sizeOf(value) : 0;
    if (size > this.maxBytes / 16) return; // a huge value would push out everything else
    this.entries.set(key, value);
    this.bytes += size;
    while (this.bytes > this.maxBytes || this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  delete(key: K): void {
    if (this.sizeOf) {
      const old = this.entries.get(key);
      if (old === undefined) return;
      this.bytes -= this.sizeOf(old);
    }
    this.entries.delete(key);
  }

  /** Forgets everything; a read in flight is not remembered either. */
  clear(): void {
    this.version++;
    this.entries.clear();
    this.bytes = 0;
  }
}
