import { assertValidKey, type Storage } from '../core/storage.js';

/** In-memory storage for `server -dev` and tests: nothing survives the process. */
export class MemoryStorage implements Storage {
  readonly type = 'inmem';
  private readonly data = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    assertValidKey(key);
    const v = this.data.get(key);
    return v === undefined ? undefined : new Uint8Array(v);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    assertValidKey(key);
    this.data.set(key, new Uint8Array(value));
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    this.data.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    assertValidKey(prefix, { prefix: true });
    const out = new Set<string>();
    for (const key of this.data.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      out.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    return [...out].sort();
  }
}
