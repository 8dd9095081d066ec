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
  /** Releases handles; the storage is not used afterwards. */
  close?(): Promise<void>;
  /** Shown by seal-status as storage_type. */
  readonly type: string;
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
