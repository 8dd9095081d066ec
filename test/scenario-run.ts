import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { skipUnless } from '../packages/shared/src/testing/index.js';

// The scenarios, through the real script as `npm run scenario -- ...` runs it (after the build `npm test` does
// first). Wall-clock time is printed by the script, never asserted by the tests.

const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'scenario.mjs');
export const NAMES = ['zero-touch', 'incident-response', 'pqc-migration', 'disaster-recovery'];

/** A HOME and TMPDIR per test file, removed at the end with every artifacts folder a test pushed. */
export function scenarioHome(): { home: string; dirs: string[] } {
  const home = mkdtempSync(join(tmpdir(), 'stratum-scenarios-'));
  // Throwaway sshd hosts live under TMPDIR (= home) and log in as another user, who must traverse it.
  chmodSync(home, 0o711);
  const dirs: string[] = [home];
  afterAll(() => {
    // A CLI an agent started may still be exiting (writing its code cache under TMPDIR) when a test
    // ends: removal retries instead of failing on the folder it is writing into (ENOTEMPTY).
    for (const d of dirs) rmSync(d, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  });
  return { home, dirs };
}

/** Scenarios that run sshd hosts and PostgreSQL: skipped here without them (failed under CI). */
export const needsServers = () => skipUnless('sshd') || skipUnless('postgres');

export function scenario(
  home: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], {
      env: { PATH: process.env.PATH, HOME: home, TMPDIR: home, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function spawnScenario(home: string, args: string[]) {
  return spawn(process.execPath, [SCRIPT, ...args], {
    env: { PATH: process.env.PATH, HOME: home, TMPDIR: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Alive and not a zombie: a reaped or defunct server counts as stopped. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}
