import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import { hostEntry, inventory, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/** A service whose "process" is a file: running while $root/opt/svc/running exists (no daemon to reap). */
const SVC = `{
  name = "svc",
  description = "a service that runs while its file exists",
  version = "1.0",
  variables = { start = true },
  install = [{ name = "dir", run = m%"mkdir -p "$root/opt/svc""% }],
  start = [{ name = "run", when = m%"[ "$start" = true ]"%, run = m%"touch "$root/opt/svc/running""% }],
  status = { name = "status", run = m%"if [ -f "$root/opt/svc/running" ]; then echo running; else echo stopped; fi"% },
  uninstall = [{ name = "rm", run = m%"rm -rf "$root/opt/svc"; rmdir "$root/opt" 2>/dev/null || true"% }],
}
`;

describe.skipIf(skipUnless('sshd'))('drift: a stopped service', () => {
  let hosts: TestHost[];
  beforeAll(async () => {
    hosts = await startHosts(1);
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  const ws = (h: TestHost, config = '{}') => {
    const w = workspace(
      `{
  provider = 'local,
  hosts = { ${hostEntry(h)} },
  taskservs = [{ name = "svc", hosts = ["${h.name}"], config = ${config} }],
} | (import "infrastructure.ncl")
`,
      [h],
      '\n[taskservs]\ndirs = ["defs"]\n',
    );
    mkdirSync(join(w.cwd, 'defs'));
    writeFileSync(join(w.cwd, 'defs', 'svc.ncl'), SVC);
    return w;
  };

  it('a service that should run but was stopped is drift: plan says it will be started, apply starts it', async () => {
    const h = hosts[0]!;
    const before = inventory(h.root);
    const w = ws(h);
    const running = join(h.root, 'opt/svc/running');
    const apply = await prov(w, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(existsSync(running)).toBe(true);
    expect((await prov(w, ['plan'])).stdout).toContain('No changes.');

    // Stopped behind prov's back.
    rmSync(running);
    const status = JSON.parse((await prov(w, ['service', 'status', 'svc', '--json'])).stdout);
    expect(status.hosts[0].status).toBe('stopped');
    const plan = await prov(w, ['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`# taskserv.svc.${h.name} will be started`);
    expect(plan.stdout).toContain('~ service: stopped → running');
    expect(plan.stdout).toContain('~ service: running → stopped');
    expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');

    const fix = await prov(w, ['apply', '-y']);
    expect(fix.code, fix.stderr).toBe(0);
    expect(existsSync(running)).toBe(true);
    expect((await prov(w, ['plan'])).stdout).toContain('No changes.');
    expect((await prov(w, ['destroy', '-y'])).code).toBe(0);
    expect(inventory(h.root)).toEqual(before);
  }, 120_000);

  it('a service configured not to start (start = false) is not drift when stopped', async () => {
    const h = hosts[0]!;
    const w = ws(h, '{ start = false }');
    expect((await prov(w, ['apply', '-y'])).code).toBe(0);
    expect(existsSync(join(h.root, 'opt/svc/running'))).toBe(false);
    expect((await prov(w, ['plan'])).stdout).toContain('No changes.');
    expect((await prov(w, ['destroy', '-y'])).code).toBe(0);
  }, 120_000);
});
