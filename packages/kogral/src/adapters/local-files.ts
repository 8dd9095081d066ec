/**
 * The note store's files on the local disk (the NoteFiles port of core/files.ts): atomic writes
 * (temporary file, fsync, rename), a lock file shared by every kogral process on the graph.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { conflictError } from '@stratumiops/shared/errors';
import { processAlive, tryLockFile, writeFileAtomic } from '@stratumiops/shared/fs';
import type { FileStat, NoteFiles } from '../core/files.js';

const tempFor = (path: string) =>
  join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);

/**
 * atomicWrite for many files at once (a sync bringing in a whole graph): each file still goes
 * through a temporary file, fsync and rename, but the fsyncs run several at a time, so the disk
 * flushes them together instead of one by one. Nothing is renamed into place before every file
 * is on disk; on an error the temporary files go and no target changed.
 */
export async function atomicWriteMany(files: { path: string; data: Buffer }[], parallel = 8): Promise<void> {
  const tmps = files.map((f) => tempFor(f.path));
  try {
    for (let i = 0; i < files.length; i += parallel)
      await Promise.all(
        files.slice(i, i + parallel).map(async (f, j) => {
          const h = await open(tmps[i + j] as string, 'wx', 0o644);
          try {
            await h.writeFile(f.data);
            await h.sync();
          } finally {
            await h.close();
          }
        }),
      );
  } catch (e) {
    for (const t of tmps)
      try {
        unlinkSync(t);
      } catch {}
    throw e;
  }
  for (const [i, f] of files.entries()) renameSync(tmps[i] as string, f.path);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const pidAlive = processAlive;

/**
 * Runs `fn` holding an exclusive lock file (O_EXCL), shared by every kogral process on the graph:
 * the CLI and the MCP server never interleave their read-modify-write of a node file.
 */
export async function withLock<T>(path: string, fn: () => Promise<T> | T, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lock: { release(): void } | undefined;
  for (let attempt = 0; !lock; attempt++) {
    const r = tryLockFile(path);
    if ('release' in r) {
      lock = r;
      break;
    }
    if (Date.now() > deadline)
      throw conflictError(`the graph is locked${r.holder ? ` by process ${r.holder}` : ''}: ${path}`, {
        hint: 'wait for the other kogral command to finish, or remove the lock file if no kogral process runs',
      });
    await sleep(Math.min(2 + attempt * 3, 40) + Math.random() * 5);
  }
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

const fileStat = (st: Stats): FileStat => ({
  isFile: st.isFile(),
  isDirectory: st.isDirectory(),
  isSymbolicLink: st.isSymbolicLink(),
  mtimeMs: st.mtimeMs,
  size: st.size,
});

export class LocalFiles implements NoteFiles {
  list(dir: string): string[] | undefined {
    try {
      return readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  entries(dir: string) {
    return readdirSync(dir, { withFileTypes: true }).map((e) => ({
      name: e.name,
      isFile: e.isFile(),
      isDirectory: e.isDirectory(),
      isSymbolicLink: e.isSymbolicLink(),
    }));
  }

  stat(path: string, follow = true): FileStat | undefined {
    const st = follow ? statSync(path, { throwIfNoEntry: false }) : lstatSync(path, { throwIfNoEntry: false });
    return st ? fileStat(st) : undefined;
  }

  realpath(path: string): string {
    return realpathSync(path);
  }

  exists(path: string): boolean {
    return existsSync(path);
  }

  read(path: string): Buffer {
    return readFileSync(path);
  }

  write(path: string, data: string | Buffer): void {
    writeFileAtomic(path, data);
  }

  writeMany(files: { path: string; data: Buffer }[]): Promise<void> {
    return atomicWriteMany(files);
  }

  mkdir(dir: string): void {
    mkdirSync(dir, { recursive: true });
  }

  remove(path: string): void {
    unlinkSync(path);
  }

  lock<T>(path: string, fn: () => Promise<T> | T): Promise<T> {
    return withLock(path, fn);
  }
}

/** The local disk, for every store of this process. */
export const localFiles = new LocalFiles();
