import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import { hostEntry, inventory, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

describe.skipIf(skipUnless('sshd'))('drift: a stopped service', () => {
  let hosts: TestHost[];
  let ports: number[];
  beforeAll(async () => {
    hosts = await startHosts(1);
    const base = 20000 + Math.floor(Math.random() * 20000);
    ports = [base, base + 1];
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('a service that should run but was stopped is drift: plan says it will be started, apply starts it', async () => {
    const h = hosts[0]!;
    const before = inventory(h.root);
    const ws = workspace(
      `{
  provider = 'local,
  hosts = { ${hostEntry(h)} },
  taskservs = [
    { name = 'etcd, hosts = ["${h.name}"], config = { init = "none", client_port = ${ports[0]}, peer_port = ${ports[1]} } },
  ],
} | (import "infrastructure.ncl")
`,
      [h],
    );
    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
    const health = () =>
      fetch(`http://127.0.0.1:${ports[0]}/health`)
        .then((r) => r.ok)
        .catch(() => false);
    expect(await health()).toBe(true);
    expect((await prov(ws, ['plan'])).stdout).toContain('No changes.');

    // Stop it behind prov's back.
    const pid = Number(readFileSync(join(h.root, 'run/etcd.pid'), 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 200 && (await health()); i++) await new Promise((r) => setTimeout(r, 25));
    const status = JSON.parse((await prov(ws, ['service', 'status', 'etcd', '--json'])).stdout);
    expect(JSON.stringify(status)).toContain('stopped');

    const plan = await prov(ws, ['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`# taskserv.etcd.${h.name} will be started`);
    expect(plan.stdout).toContain('~ service: stopped → running');
    expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');

    const fix = await prov(ws, ['apply', '-y']);
    expect(fix.code, fix.stderr).toBe(0);
    expect(await health()).toBe(true);
    expect((await prov(ws, ['plan'])).stdout).toContain('No changes.');

    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
    expect(inventory(h.root)).toEqual(before);
  }, 120_000);
});
