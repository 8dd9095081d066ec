import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { assertValidKey, KeyedMutex, type Storage } from '../core/storage.js';

/**
 * Storage in a directory, one file per key. A key `a/b/c` lives at `+a/+b/_c`: the different
 * prefixes for files and folders keep `a/b` (a value) and `a/b/c` (a value under it) apart, and
 * a leading '.' is reserved for temporary files, which listing never shows.
 *
 * Writes go to a temporary file in the same folder, are fsynced, renamed over the target
 * and the folder is fsynced: after a crash a key holds its old value or its new one.
 */
export class FilesystemStorage implements Storage {
  readonly type = 'file';
  private readonly root: string;
  private readonly locks = new KeyedMutex();

  constructor(root: string) {
    this.root = resolve(root);
  }

  private filePath(key: string): string {
    assertValidKey(key);
    const segs = key.split('/');
    for (const s of segs) if (Buffer.byteLength(s) > 200) throw new Error('storage key segment too long');
    const file = segs.pop() as string;
    const p = join(this.root, ...segs.map((s) => `+${s}`), `_${file}`);
    // Belt and braces: valid keys cannot leave the root, but never trust a join alone.
    const rel = relative(this.root, p);
    if (rel.startsWith('..') || rel.startsWith(sep)) throw new Error('storage key escapes the data dir');
    return p;
  }

  private dirPath(prefix: string): string {
    assertValidKey(prefix, { prefix: true });
    const segs = prefix === '' ? [] : prefix.replace(/\/$/, '').split('/');
    return join(this.root, ...segs.map((s) => `+${s}`));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.filePath(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    const target = this.filePath(key);
    await this.locks.run(key, async () => {
      // A concurrent delete may remove an empty parent folder between mkdir and rename: retry.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.writeAtomic(target, value);
          return;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw e;
        }
      }
    });
  }

  private async writeAtomic(target: string, value: Uint8Array): Promise<void> {
    const dir = dirname(target);
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(value);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, target);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    await fsyncDir(dir);
    // New folders must reach their parents' entries too.
    if (created) {
      for (let d = dirname(dir); d.length >= this.root.length && d.startsWith(this.root); d = dirname(d)) {
        await fsyncDir(d);
        if (d === dirname(created)) break;
      }
    }
  }

  async delete(key: string): Promise<void> {
    const target = this.filePath(key);
    await this.locks.run(key, async () => {
      try {
        await unlink(target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      await fsyncDir(dirname(target));
      // Remove folders left empty, up to the root; rmdir fails on a non-empty one, which ends it.
      for (let d = dirname(target); d !== this.root && d.startsWith(this.root); d = dirname(d)) {
        try {
          await rmdir(d);
        } catch {
          break;
        }
      }
    });
  }

  async list(prefix: string): Promise<string[]> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(this.dirPath(prefix), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: string[] = [];
    for (const ent of entries) {
      if (ent.name.startsWith('_') && ent.isFile()) out.push(ent.name.slice(1));
      else if (ent.name.startsWith('+') && ent.isDirectory()) out.push(`${ent.name.slice(1)}/`);
    }
    return out.sort();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
