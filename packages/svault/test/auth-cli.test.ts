import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { initAndUnseal, startTestServer } from './helpers.js';

let srv: Awaited<ReturnType<typeof startTestServer>>;
let cwd: string;
let env: NodeJS.ProcessEnv;
const svault = (...args: string[]) => runBin('svault', args, { cwd, env });

beforeAll(async () => {
  srv = await startTestServer();
  ({ cwd, env } = sandbox());
  env.SVAULT_ADDR = srv.address;
  env.SVAULT_TOKEN = (await initAndUnseal(srv.address)).root;
});
afterAll(async () => {
  await srv.close();
});

describe('auth methods from the CLI, as `vault write` spells them', () => {
  it('enables userpass, creates a user, logs in (token shown), and says why a wrong password fails', {
    timeout: 60_000,
  }, async () => {
    expect((await svault('write', 'sys/auth/userpass', 'type=userpass')).code).toBe(0);
    expect(
      (await svault('write', 'auth/userpass/users/alice', 'password=pw-alice', 'token_policies=default')).code,
    ).toBe(0);
    writeFileSync(join(cwd, 'pw.txt'), 'pw-alice');
    const ok = await svault('write', 'auth/userpass/login/alice', 'password=@pw.txt');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/token\s+hvs\./);
    expect(ok.stdout).toMatch(/token_meta_username\s+alice/);
    expect(ok.stdout).not.toContain('pw-alice');
    const bad = await svault('write', 'auth/userpass/login/alice', 'password=wrong');
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/invalid credentials/);
    const tune = await svault('write', 'sys/auth/userpass/tune', 'max_lease_ttl=2h');
    expect(tune.code).toBe(0);
    expect((await svault('read', 'sys/auth/userpass/tune')).stdout).toMatch(/max_lease_ttl\s+7200/);
  });
});
