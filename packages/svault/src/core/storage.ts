/**
 * Physical storage: opaque bytes under slash-separated keys. The barrier is the only
 * caller; it hands over keys whose segments are already encrypted (see barrier.ts), so a
 * backend never sees a secret's name or value.
 *
 * The shape follows Vault's physical.Backend so that PostgreSQL (one row per key, with
 * parent_path for listing) and etcd (prefix range reads) fit without changes here.
 */
export interface Storage {
  /** The value, or undefined when the key does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Creates or replaces atomically: a reader sees the old value or the new one, never a mix. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Immediate children of `prefix` (which is '' or ends with '/'): leaf names, and
   * sub-folders with a trailing '/', sorted, like Vault's List.
   */
  list(prefix: string): Promise<string[]>;
  /**
   * Several writes and deletes in order, as one unit where the backend can: the filesystem
   * backend journals them as one record (one fsync) that a crash keeps whole or not at all.
   * Backends without it get the operations one by one.
   */
  batch?(ops: StorageOp[]): Promise<void>;
  /** Releases handles; the storage is not used afterwards. */
  close?(): Promise<void>;
  /** Shown by seal-status as storage_type. */
  readonly type: string;
}

export type StorageOp = { op: 'put'; key: string; value: Uint8Array } | { op: 'delete'; key: string };

/** `storage.batch(ops)`, or the operations in order where the backend has no batch. */
export async function applyBatch(storage: Pick<Storage, 'put' | 'delete' | 'batch'>, ops: StorageOp[]): Promise<void> {
  if (storage.batch) return storage.batch(ops);
  for (const o of ops) {
    if (o.op === 'put') await storage.put(o.key, o.value);
    else await storage.delete(o.key);
  }
}

/**
 * A batch reduced to one operation per key, the last one given for it, in the order of those last
 * operations (keys checked): for backends that write a batch as one statement or transaction,
 * where a key may appear only once (etcd refuses it twice; a SQL statement would be ambiguous).
 */
export function lastOpPerKey(ops: StorageOp[]): StorageOp[] {
  const last = new Map<string, StorageOp>();
  for (const o of ops) {
    assertValidKey(o.key);
    last.delete(o.key); // re-inserted: Map order is the order of last writes
    last.set(o.key, o);
  }
  return [...last.values()];
}

/** Keys are validated the same way in every backend, so a bug above cannot escape a data dir. */
export function assertValidKey(key: string, opts: { prefix?: boolean } = {}): void {
  if (opts.prefix && key === '') return;
  const body = opts.prefix ? key.replace(/\/$/, '') : key;
  if (opts.prefix && !key.endsWith('/')) throw new Error(`storage prefix must end with '/': ${key}`);
  for (const seg of body.split('/')) {
    if (seg === '' || seg === '.' || seg === '..' || /[\\\0]/.test(seg)) {
      throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
    }
  }
}

/** Serializes async work per key, so that read-modify-write sequences do not interleave. */
export class KeyedMutex {
  /** Runs `fn` holding the locks of all `keys` (taken in sorted order: no deadlock between batches). */
  async runAll<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> =>
      i === sorted.length ? fn() : this.run(sorted[i] as string, () => step(i + 1));
    return step(0);
  }

  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
