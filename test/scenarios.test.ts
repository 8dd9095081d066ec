import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipUnless } from '../packages/shared/src/testing/index.js';
import { NAMES, scenario, scenarioHome } from './scenario-run.js';

const { home } = scenarioHome();

interface Listed {
  name: string;
  runnable: boolean;
  needs: string[];
  missing: string[];
  not_yet: string[];
}

describe('npm run scenario', () => {
  it('list names the four scenarios, what each needs and what is missing', async () => {
    const r = await scenario(home, ['list', '--json']);
    expect(r.code).toBe(0);
    const { scenarios } = JSON.parse(r.stdout) as { scenarios: Listed[] };
    expect(scenarios.map((s) => s.name)).toEqual(NAMES);
    const ir = scenarios.find((s) => s.name === 'incident-response')!;
    expect(ir).toMatchObject({ runnable: true, missing: [] });
    expect(ir.needs).toEqual(
      expect.arrayContaining(['prov apply', 'svault database creds', 'vapora pipeline run', 'kogral serve']),
    );
    expect(ir.not_yet).toEqual([]);
    expect(scenarios.find((s) => s.name === 'pqc-migration')).toMatchObject({ runnable: true, missing: [] });
    // zero-touch also needs Patroni and etcd on this machine.
    const zt = scenarios.find((s) => s.name === 'zero-touch')!;
    if (skipUnless('patroni') || skipUnless('etcd'))
      expect(zt.missing.join(' ')).toMatch(/apt-get install (patroni|etcd)/);
    else expect(zt).toMatchObject({ runnable: true, missing: [] });
    expect(scenarios.find((s) => s.name === 'disaster-recovery')).toMatchObject({ runnable: true, missing: [] });
    expect(scenarios.find((s) => s.name === 'disaster-recovery')!.needs).toEqual(
      expect.arrayContaining(['prov migrate apply', 'vapora alert raise']),
    );

    const text = await scenario(home, ['list']);
    expect(text.code).toBe(0);
    for (const n of NAMES) expect(text.stdout).toContain(n);
    expect(text.stdout).toMatch(/incident-response\s+runs here/);
  });

  it('an unknown scenario or flag is a usage error (exit 2) with the list', async () => {
    for (const args of [['nope'], [], ['list', '--frobnicate']]) {
      const r = await scenario(home, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('usage: npm run scenario');
      for (const n of NAMES) expect(r.stderr).toContain(n);
    }
    expect((await scenario(home, ['nope'])).stderr).toContain("unknown scenario 'nope'");
    const twin = await scenario(home, ['incident-response', '--twin', 'nope']);
    expect(twin.code).toBe(2);
    expect(twin.stderr).toContain(
      "incident-response has no failure twin 'nope' (it has: rejected-approval, failed-restart)",
    );
    expect((await scenario(home, ['incident-response', '--twin'])).code).toBe(2);
  });

  it('a scenario whose pieces are missing here exits 1 naming each, never a fake success', async () => {
    // A machine without Patroni: a PATH with only what the probes themselves use (sh, ls, head, etcd).
    const bin = join(home, 'no-patroni-bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['sh', 'ls', 'head', 'etcd']) {
      const found = ['/usr/bin', '/bin', '/usr/local/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
      if (found && !existsSync(join(bin, tool))) symlinkSync(found, join(bin, tool));
    }
    const env = { PATH: bin };
    const { scenarios } = JSON.parse((await scenario(home, ['list', '--json'], env)).stdout) as { scenarios: Listed[] };
    const zt = scenarios.find((s) => s.name === 'zero-touch')!;
    expect(zt.runnable).toBe(false);
    expect(zt.missing).toContain('needs patroni (not installed: apt-get install patroni)');
    const r = await scenario(home, ['zero-touch', '--json'], env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      scenario: 'zero-touch',
      ok: false,
      runnable: false,
      missing: zt.missing,
    });
    for (const m of zt.missing) expect(r.stderr).toContain(m);
  }, 60_000);
});
