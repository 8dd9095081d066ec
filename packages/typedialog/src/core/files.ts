import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { usageError } from '@stratumiops/shared/errors';

/** Writes a file atomically (a temp file in the same folder, then rename): a reader sees old or new. */
export function writeAtomic(path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A file's text, or undefined when it is not text: invalid UTF-8 or a NUL byte (an image, an archive). */
export function readText(path: string): string | undefined {
  const bytes = readFileSync(path);
  if (bytes.includes(0)) return undefined;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A folder where a file goes is exit 2 with `message` (naming what takes a folder), not a raw EISDIR. */
export function refuseFolder(path: string, message: string): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw usageError(message);
}
