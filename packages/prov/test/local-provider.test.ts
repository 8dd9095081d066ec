import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortBlock, skipUnless } from '../../shared/src/testing/index.js';
import {
  fakeRelease,
  hostEntry,
  inventory,
  prov,
  startHosts,
  stopHosts,
  type TestHost,
  workspace,
} from './support/hosts.js';

describe.skipIf(skipUnless('sshd'))('local provider over real sshd: plan, apply, destroy, rollback', () => {
  let hosts: TestHost[];
  let artifacts: string;
  let ports: number[];
  beforeAll(async () => {
    hosts = await startHosts(2);
    artifacts = mkdtempSync(join(tmpdir(), 'prov-art-'));
    execFileSync('chmod', ['755', artifacts]);
    fakeRelease(artifacts, 'node_exporter', '1.8.2', ['node_exporter']);
    const base = await freePortBlock(2);
    ports = [base, base + 1];
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  const config = (extraTaskservs = '', nodeExporterPort = 9100) => `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} },
  servers = [
    ${hosts.map((h) => `{ name = "${h.name}", provider = 'local, role = "db", spec.os = { family = 'debian, version = "12" } }`).join(',\n    ')}
  ],
  taskservs = [
    { name = 'etcd, hosts = ["node-1"], config = { init = "none", client_port = ${ports[0]}, peer_port = ${ports[1]} } },
    { name = 'node_exporter, hosts = ["node-1", "node-2"], depends_on = ["etcd"],
      config = { start = false, artifact_url = "file://${artifacts}/node_exporter.tgz", port = ${nodeExporterPort} } },
    ${extraTaskservs}
  ],
} | Infrastructure
`;

  it('plans, applies (real etcd process, installed files), plans no changes, updates in place, destroys to the original inventory', async () => {
    const before = hosts.map((h) => inventory(h.root));
    const ws = workspace(config(), hosts);
    const plan = await prov(ws, ['plan', '-o', 'plan.json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('# taskserv.etcd.node-1 will be created');
    expect(plan.stdout).toContain('Plan: 5 to add, 0 to change, 0 to destroy.');

    const apply = await prov(ws, ['apply', 'plan.json', '--auto-approve']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    // Effects on the hosts: an etcd answering on its port, the node_exporter binary and unit file, markers.
    const health = await fetch(`http://127.0.0.1:${ports[0]}/health`).then((r) => r.json());
    expect(health).toMatchObject({ health: 'true' });
    for (const h of hosts) {
      expect(readFileSync(join(h.root, 'usr/local/bin/node_exporter'), 'utf8')).toContain('version 1.8.2');
      expect(readFileSync(join(h.root, 'etc/systemd/system/node_exporter.service'), 'utf8')).toContain(
        'ExecStart=/usr/local/bin/node_exporter --web.listen-address=0.0.0.0:9100',
      );
      expect(JSON.parse(readFileSync(join(h.root, 'var/lib/prov/server.json'), 'utf8'))).toMatchObject({
        name: h.name,
        role: 'db',
      });
    }
    expect(readFileSync(join(hosts[0]!.root, 'etc/etcd/etcd.conf.yml'), 'utf8')).toContain('name: node-1');

    // The saved plan is now stale: state moved.
    const again = await prov(ws, ['apply', 'plan.json', '--auto-approve']);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain('state changed since the plan was made');

    const noop = await prov(ws, ['plan']);
    expect(noop.code, noop.stderr).toBe(0);
    expect(noop.stdout).toContain('No changes. Your infrastructure matches the configuration.');

    // A config change is an in-place update with a per-attribute diff.
    writeFileSync(join(ws.cwd, 'prov.ncl'), config('', 9200));
    const upd = await prov(ws, ['plan', '--json']);
    const doc = JSON.parse(upd.stdout);
    expect(doc.summary).toMatchObject({ add: 0, change: 2, destroy: 0 });
    const ch = doc.changes.find((c: { address: string }) => c.address === 'taskserv.node_exporter.node-2');
    expect(ch.action).toBe('update');
    expect(ch.changes).toContainEqual({ path: 'config.port', before: 9100, after: 9200 });
    const applied = await prov(ws, ['apply', '-y']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(readFileSync(join(hosts[1]!.root, 'etc/systemd/system/node_exporter.service'), 'utf8')).toContain(':9200');

    // Drift: a marker removed behind prov's back is seen on refresh.
    execFileSync('rm', [join(hosts[1]!.root, 'var/lib/prov/taskservs/node_exporter.json')]);
    const drift = await prov(ws, ['plan']);
    expect(drift.stdout).toContain('# taskserv.node_exporter.node-2 will be created (it was deleted outside prov)');
    const healed = await prov(ws, ['apply', '-y']);
    expect(healed.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');

    const list = await prov(ws, ['state', 'list', '--json']);
    expect(JSON.parse(list.stdout).resources.map((r: { address: string }) => r.address)).toEqual([
      'server.node-1',
      'server.node-2',
      'taskserv.etcd.node-1',
      'taskserv.node_exporter.node-1',
      'taskserv.node_exporter.node-2',
    ]);

    const destroy = await prov(ws, ['destroy', '--auto-approve']);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 0 added, 0 changed, 5 destroyed.');
    expect(hosts.map((h) => inventory(h.root))).toEqual(before);
    await expect(fetch(`http://127.0.0.1:${ports[0]}/health`)).rejects.toThrow();
    const hist = JSON.parse((await prov(ws, ['history', '--json'])).stdout);
    expect(hist.runs.map((r: { kind: string; status: string }) => `${r.kind}:${r.status}`)).toEqual([
      'destroy:succeeded',
      'apply:succeeded',
      'apply:succeeded',
      'apply:succeeded',
    ]);
  }, 180_000);

  it('rolls back completed tasks in reverse order when one fails, leaving every host as it was', async () => {
    const before = hosts.map((h) => inventory(h.root));
    const cfg = config().replace(`file://${artifacts}/node_exporter.tgz`, `file://${artifacts}/missing.tgz`);
    const ws = workspace(cfg, hosts);
    const r = await prov(ws, ['apply', '-y', '--json']);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.message).toMatch(
      /taskserv\.node_exporter\.node-[12]: node-[12]: node_exporter install step 'binary' exited 1/,
    );
    expect(err.details.status).toBe('rolled_back');
    // Everything completed before the failure was undone, in reverse completion order.
    expect(err.details.rolled_back).toContain('taskserv.etcd.node-1');
    expect(err.details.rolled_back.at(-1)).toMatch(/^server\./);
    expect(hosts.map((h) => inventory(h.root))).toEqual(before);
    const state = JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout);
    expect(state.resources).toEqual([]);
    const hist = JSON.parse((await prov(ws, ['history', '--json'])).stdout);
    expect(hist.runs[0]).toMatchObject({ kind: 'apply', status: 'rolled_back' });

    // With --no-rollback the completed part stays, recorded in state; destroy cleans it up.
    const kept = await prov(ws, ['apply', '-y', '--no-rollback']);
    expect(kept.code).toBe(1);
    expect(kept.stdout).toContain('kept: --no-rollback');
    expect(existsSync(join(hosts[0]!.root, 'etc/etcd/etcd.conf.yml'))).toBe(true);
    const d = await prov(ws, ['destroy', '-y']);
    expect(d.code, d.stderr).toBe(0);
    expect(hosts.map((h) => inventory(h.root))).toEqual(before);
  }, 180_000);

  it('reports a dependency cycle by name before touching any host', async () => {
    const cfg = config(`{ name = 'prometheus, hosts = ["node-1"], depends_on = ["containerd"] },
    { name = 'containerd, hosts = ["node-1"], depends_on = ["prometheus"] },`);
    const ws = workspace(cfg, hosts);
    const r = await prov(ws, ['plan', '--no-refresh']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /dependency cycle: taskserv\.(containerd|prometheus)\.node-1 → taskserv\.(prometheus|containerd)\.node-1 → taskserv\.\1\.node-1/,
    );
  }, 180_000);
});
