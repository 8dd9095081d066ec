import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { conflictError } from '@stratumiops/shared/errors';
import { processAlive } from '@stratumiops/shared/fs';

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

/** Byte offset of the first byte that is not valid UTF-8, or -1. */
export function invalidUtf8At(buf: Buffer): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [len, min] = [2, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [len, min] = [3, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [len, min] = [4, 0x10000];
    else return i;
    if (i + len > n) return i;
    let cp = b & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const c = buf[i + k] as number;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return -1;
}

export interface TextCheck {
  text?: string;
  /** Why the file is not readable as text, with a line when there is one. */
  error?: { message: string; line?: number };
}

/** Decodes a file's bytes as UTF-8 text, refusing binary data, invalid UTF-8 and files over `maxBytes`. */
export function checkText(buf: Buffer, maxBytes: number): TextCheck {
  if (buf.length > maxBytes)
    return {
      error: {
        message: `file is ${mb(buf.length)}, over the ${mb(maxBytes)} limit (a node must be text of sane size)`,
      },
    };
  const nul = buf.subarray(0, 8192).indexOf(0);
  if (nul >= 0) return { error: { message: 'binary file (it contains NUL bytes), not markdown' } };
  if (isUtf8(buf)) return { text: buf.toString('utf8') };
  const bad = invalidUtf8At(buf);
  const line = buf.subarray(0, Math.max(0, bad)).toString('latin1').split('\n').length;
  return { error: { message: `invalid UTF-8 at byte ${bad}`, line } };
}

const mb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const pidAlive = processAlive;

function readLock(path: string): { pid: number; raw: string } | undefined {
  try {
    const raw = readFileSync(path, 'utf8');
    const pid = Number.parseInt(raw, 10);
    return Number.isInteger(pid) && pid > 0 ? { pid, raw } : { pid: 0, raw };
  } catch {
    return undefined;
  }
}

/** A lock whose holder died (or that is older than this and unreadable) is taken over. */
const STALE_MS = 30_000;

function stale(path: string): { raw: string } | undefined {
  const info = readLock(path);
  if (!info) return undefined;
  if (info.pid > 0 && info.pid !== process.pid && !pidAlive(info.pid)) return info;
  try {
    if (info.pid === 0 && Date.now() - statSync(path).mtimeMs > STALE_MS) return info;
  } catch {}
  return undefined;
}

/** Moves a stale lock aside; if what was moved turns out to be a fresh lock, puts it back. */
function breakStale(path: string, raw: string): void {
  const aside = `${path}.${process.pid}.${randomBytes(3).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  let now = '';
  try {
    now = readFileSync(aside, 'utf8');
  } catch {}
  if (now !== raw) {
    try {
      linkSync(aside, path);
    } catch {}
  }
  try {
    unlinkSync(aside);
  } catch {}
}

/**
 * Runs `fn` holding an exclusive lock file (O_EXCL), shared by every kogral process on the graph:
 * the CLI and the MCP server never interleave their read-modify-write of a node file.
 */
export async function withLock<T>(path: string, fn: () => Promise<T> | T, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const s = stale(path);
    if (s) {
      breakStale(path, s.raw);
      continue;
    }
    if (Date.now() > deadline) {
      const holder = readLock(path);
      throw conflictError(`the graph is locked${holder?.pid ? ` by process ${holder.pid}` : ''}: ${path}`, {
        hint: 'wait for the other kogral command to finish, or remove the lock file if no kogral process runs',
      });
    }
    await sleep(Math.min(2 + attempt * 3, 40) + Math.random() * 5);
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
    } catch {}
  }
}

export function writeNewFile(path: string, data: string): boolean {
  try {
    writeFileSync(path, data, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}
