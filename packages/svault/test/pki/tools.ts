import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCI } from '../../../shared/src/testing/index.js';
import { hasOpenssl } from '../proc.js';

/** The outside verifiers of the PKI tests: the openssl CLI and python's cryptography (for ML-DSA-65). */

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

export function run(cmd: string, args: string[], input?: string): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export const openssl = (...args: string[]) => run('openssl', args);

export const PY_VERIFIER = join(import.meta.dirname, 'verify_mldsa.py');

/** python3 with a cryptography that reads ML-DSA (it bundles OpenSSL >= 3.5). */
function hasPythonMlDsa(): boolean {
  return run('python3', ['-c', 'from cryptography.hazmat.primitives.asymmetric import mldsa']).code === 0;
}

/** Skipped with a hint outside CI when a verifier is missing; under CI the tests run and fail. */
export const skipOpenssl = !hasOpenssl() && !isCI();
export const skipPython = !hasPythonMlDsa() && !isCI();
if (skipOpenssl) console.warn('PKI tests skipped: the openssl CLI is missing (apt-get install openssl)');
if (skipPython) console.warn('ML-DSA cross-checks skipped: python3 with cryptography >= 45 is missing');

/** Writes `text` (a trailing newline added) to dir/name and returns the path. */
export function file(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text.endsWith('\n') ? text : `${text}\n`);
  return p;
}
