/**
 * Reading the files a user names (forms, answers, agents, descriptions). The core reads local files
 * directly with node:fs and writes none: see "What core may import" in CONTRIBUTING.md.
 */
import { readFileSync, statSync } from 'node:fs';
import { usageError } from '@stratumiops/shared/errors';

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
