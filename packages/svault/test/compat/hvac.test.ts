import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/main.js';
import { initAndUnseal, startTestServer } from '../helpers.js';

/**
 * hvac, a Vault client we did not write (Debian's python3-hvac 0.11), against the real HTTP API.
 * The interpreter: HVAC_PYTHON, else the first of /usr/bin/python3 and python3 that imports hvac
 * (a pyenv python3 on PATH usually does not see Debian's packages).
 */
function hvacPython(): string | undefined {
  const candidates = [process.env.HVAC_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[];
  return candidates.find((py) => spawnSync(py, ['-c', 'import hvac'], { stdio: 'ignore' }).status === 0);
}

const python = hvacPython();
if (!python && process.env.CI) {
  throw new Error('python3 with hvac is required under CI: apt-get install python3-hvac');
}
if (!python) console.warn('skipping the hvac tests: no python3 imports hvac (apt-get install python3-hvac)');

describe.skipIf(!python)('hvac 0.11 (python3-hvac) against svault', () => {
  let srv: RunningServer & { dir: string };
  let root: string;
  beforeAll(async () => {
    srv = await startTestServer();
    ({ root } = await initAndUnseal(srv.address));
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('kv, transit, HCL policies, userpass and approle logins, response wrapping', { timeout: 120_000 }, async () => {
    const script = join(import.meta.dirname, 'hvac_client.py');
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(python as string, [script, srv.address, root], { timeout: 100_000 }, (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(stderr.trim(), stdout).toBe('');
    expect(code).toBe(0);
    const { steps } = JSON.parse(stdout.trim().split('\n').pop() as string) as { steps: string[] };
    expect(steps).toContain('second unwrap: InvalidRequest');
    expect(steps).toContain('approle login');
    expect(steps).toHaveLength(20); // every step of the script ran
  });
});
