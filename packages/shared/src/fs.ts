import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * True while a process with this pid exists on this machine and is not a zombie (a killed process whose parent
 * never reaped it, as happens without an init in containers, is dead for every purpose here).
 * EPERM means it exists but belongs to another user.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Writes a file so that a reader, or a crash, sees the old content or the new one, never a mix: a temporary file
 * in the same folder (created exclusively, with `mode` from the start, so a secret is never readable by others),
 * fsync, rename over the target, then fsync of the folder so that the rename itself survives a power loss.
 * The folder is created when missing.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
  syncDir(dir);
}

/** fsync of a folder (its entries: a rename, a new file); some filesystems refuse it, which changes nothing. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A lock file whose holder cannot be read (no pid) is taken over once it is older than this. */
const UNREADABLE_LOCK_MS = 30_000;

/**
 * Takes `path` as a lock file: created exclusively, holding this process's pid and the time. A lock left by a
 * process that is gone (or unreadable and older than 30 s) is moved aside and taken over; if what was moved
 * turns out to be a fresh lock (another process took it over first), it is put back. Returns the lock (its
 * `release` removes the file), or the pid of the live holder (this process's own pid when it holds it already;
 * 0 when the file names none).
 */
export function tryLockFile(path: string, mode = 0o644): { release(): void } | { holder: number } {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', mode);
      writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`);
      closeSync(fd);
      return {
        release() {
          try {
            unlinkSync(path);
          } catch {}
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = readLockFile(path);
    if (!held) continue; // released meanwhile
    const dead =
      held.pid > 0 ? held.pid !== process.pid && !processAlive(held.pid) : olderThan(path, UNREADABLE_LOCK_MS);
    if (!dead) return { holder: held.pid };
    takeOver(path, held.raw);
  }
  return { holder: readLockFile(path)?.pid ?? 0 };
}

function readLockFile(path: string): { pid: number; raw: string } | undefined {
  try {
    const raw = readFileSync(path, 'utf8');
    const pid = Number.parseInt(raw, 10);
    return { pid: Number.isInteger(pid) && pid > 0 ? pid : 0, raw };
  } catch {
    return undefined;
  }
}

function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return false;
  }
}

/** Moves a dead holder's lock aside; if what was moved is not what was judged dead, puts it back. */
function takeOver(path: string, raw: string): void {
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
