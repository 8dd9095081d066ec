import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortBlock, skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import { hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/** A small definition: writes a marker file with the member's index, removes it on uninstall. */
const MARKER = `{
  name = "marker",
  description = "test stand-in: one file per member",
  version = "1",
  variables = { index = 0 },
  install = [{ name = "mark", run = m%"mkdir -p "$root/opt/marker"; echo "$index" > "$root/opt/marker/$host""% }],
  uninstall = [{ name = "rm", run = m%"rm -f "$root/opt/marker/$host"; prov_prune "$root/opt/marker""% }],
}
`;

/** A generic cluster template: the marker on every member. */
const TEMPLATE = `# Test template: a marker on every member.
fun p => {
  name = p.name,
  template = "marker",
  kind = "generic",
  members = p.members,
  services = std.array.map (fun m => { service = "marker", host = m.host, config = { index = m.index } }) p.members,
  order = ["marker"],
}
`;

function config(hosts: TestHost[], clusters = '') {
  return `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} }, ${clusters} } | Infrastructure
`;
}

function markerWorkspace(hosts: TestHost[], clusters = '') {
  const ws = workspace(config(hosts, clusters), hosts, '\n[taskservs]\ndirs = ["taskservs"]\n');
  mkdirSync(join(ws.cwd, 'taskservs'));
  writeFileSync(join(ws.cwd, 'taskservs', 'marker.ncl'), MARKER);
  mkdirSync(join(ws.cwd, 'tpl'));
  writeFileSync(join(ws.cwd, 'tpl', 'template.ncl'), TEMPLATE);
  return ws;
}

describe.skipIf(skipUnless('sshd'))('clusters in the state backend', () => {
  let hosts: TestHost[];
  beforeAll(async () => {
    hosts = await startHosts(2, 'cs');
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('a cluster made with cluster create is recorded in state; apply of a config without it plans no delete', async () => {
    const ws = markerWorkspace(hosts);
    const r = await prov(ws, ['cluster', 'create', 'm1', '--template', './tpl', '--servers', 'cs-1,cs-2', '-y']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(readFileSync(join(hosts[1]!.root, 'opt/marker/cs-2'), 'utf8')).toBe('1\n');
    // No file record any more: the record is in the state, with the serial bumped like any change.
    expect(existsSync(join(ws.cwd, '.prov/clusters/m1.json'))).toBe(false);
    const list = JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout);
    expect(list.clusters).toMatchObject([{ name: 'm1', template: 'tpl', members: ['cs-1', 'cs-2'] }]);

    const plan = await prov(ws, ['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('No changes.');
    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(readFileSync(join(hosts[0]!.root, 'opt/marker/cs-1'), 'utf8')).toBe('0\n');

    const d = await prov(ws, ['cluster', 'destroy', 'm1', '-y']);
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect(existsSync(join(hosts[0]!.root, 'opt/marker/cs-1'))).toBe(false);
    expect(JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout).clusters).toEqual([]);
  }, 180_000);

  it('a record of the older layout (.prov/clusters/NAME.json) moves into the state on first use', async () => {
    const ws = markerWorkspace(hosts);
    const dry = JSON.parse(
      (await prov(ws, ['cluster', 'create', 'old', '--template', './tpl', '--servers', 'cs-1', '--dry-run', '--json']))
        .stdout,
    );
    mkdirSync(join(ws.cwd, '.prov/clusters'), { recursive: true });
    const rec = {
      name: 'old',
      template: 'tpl',
      settings: {},
      spec: dry.spec,
      created_at: 't',
      updated_at: 't',
      former_members: [],
    };
    writeFileSync(join(ws.cwd, '.prov/clusters/old.json'), JSON.stringify(rec));
    const list = JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout);
    expect(list.clusters).toMatchObject([{ name: 'old', members: ['cs-1'] }]);
    expect(existsSync(join(ws.cwd, '.prov/clusters/old.json'))).toBe(false);
    expect(existsSync(join(ws.cwd, '.prov/clusters/old.json.migrated'))).toBe(true);
    const show = JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout);
    expect(show.serial).toBeGreaterThan(0);
  }, 120_000);

  it('a cluster declared in prov.ncl is planned as a create, applied, then recorded (nothing more to do)', async () => {
    const ws = markerWorkspace(hosts, `clusters = [{ name = "decl", template = "./tpl", members = ["cs-1", "cs-2"] }]`);
    const plan = await prov(ws, ['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');
    expect(plan.stdout).toContain('cluster decl does not exist yet');
    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr + apply.stdout).toBe(0);
    expect(readFileSync(join(hosts[1]!.root, 'opt/marker/cs-2'), 'utf8')).toBe('1\n');
    const again = await prov(ws, ['plan']);
    expect(again.stdout).toContain('No changes.');
    const list = JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout);
    expect(list.clusters).toMatchObject([{ name: 'decl', members: ['cs-1', 'cs-2'] }]);
    // A bad declaration is refused by the contract before anything runs.
    writeFileSync(
      join(ws.cwd, 'prov.ncl'),
      config(hosts, `clusters = [{ name = "Bad Name", template = "./tpl", members = ["cs-1"] }]`),
    );
    const bad = await prov(ws, ['plan']);
    expect(bad.code).toBe(3);
    writeFileSync(join(ws.cwd, 'prov.ncl'), config(hosts));
    expect((await prov(ws, ['cluster', 'destroy', 'decl', '-y'])).code).toBe(0);
  }, 180_000);

  it.skipIf(skipUnless('etcd'))(
    'a cluster that runs etcd of its own is backed up as an etcd snapshot, with a manifest and checksums',
    async () => {
      const port = await freePortBlock(2);
      const ws = markerWorkspace(hosts);
      mkdirSync(join(ws.cwd, 'etpl'));
      writeFileSync(
        join(ws.cwd, 'etpl', 'template.ncl'),
        `# Test template: etcd alone on the first member.
fun p => let m = std.array.at 0 p.members in {
  name = p.name,
  template = "etcd-only",
  kind = "generic",
  members = [m],
  services = [{
    service = "etcd",
    host = m.host,
    config = { client_port = ${port}, peer_port = ${port + 1}, listen_address = m.address, advertise_address = m.address, init = "none", data_dir = "/var/lib/prov-etcd/%{p.name}" },
  }],
  order = ["etcd"],
}
`,
      );
      const c = await prov(ws, ['cluster', 'create', 'e1', '--template', './etpl', '--servers', 'cs-1', '-y'], 120_000);
      expect(c.code, c.stderr + c.stdout).toBe(0);
      try {
        const out = mkdtempSync(join(tmpdir(), 'prov-etcd-backup-'));
        const r = await prov(ws, ['cluster', 'backup', 'e1', '--output', out, '--json'], 120_000);
        expect(r.code, r.stderr + r.stdout).toBe(0);
        const b = JSON.parse(r.stdout);
        expect(b.manifest).toMatchObject({ cluster: 'e1', kind: 'generic', method: 'etcd-snapshot' });
        const snap = readFileSync(join(b.dir, 'etcd.snapshot.db'));
        expect(createHash('sha256').update(snap).digest('hex')).toBe(b.manifest.files[0].sha256);
        expect(createHash('sha256').update(snap.subarray(0, -32)).digest().equals(snap.subarray(-32))).toBe(true);
        // The backup is the data itself: readable by its owner only.
        expect(statSync(b.dir).mode & 0o777).toBe(0o700);
        for (const f of readdirSync(b.dir)) expect([f, statSync(join(b.dir, f)).mode & 0o777]).toEqual([f, 0o600]);
        // A generic cluster with no etcd has nothing to back up: a clear refusal.
        expect(
          (await prov(ws, ['cluster', 'create', 'm2', '--template', './tpl', '--servers', 'cs-2', '-y'])).code,
        ).toBe(0);
        const none = await prov(ws, ['cluster', 'backup', 'm2', '--output', out]);
        expect(none.code).toBe(2);
        expect(none.stderr).toContain('runs no etcd of its own');
        expect((await prov(ws, ['cluster', 'destroy', 'm2', '-y'])).code).toBe(0);
      } finally {
        expect((await prov(ws, ['cluster', 'destroy', 'e1', '-y'], 120_000)).code).toBe(0);
      }
    },
    300_000,
  );

  it.skipIf(skipUnless('postgres'))(
    'with a PostgreSQL state, the cluster record is shared: another checkout sees it and plans no delete',
    async () => {
      const server = await startPostgres();
      try {
        const a = markerWorkspace(hosts);
        const b = markerWorkspace(hosts);
        a.env.PROV_STATE = server.url;
        b.env.PROV_STATE = server.url;
        const c = await prov(a, ['cluster', 'create', 'pgm', '--template', './tpl', '--servers', 'cs-1,cs-2', '-y']);
        expect(c.code, c.stderr + c.stdout).toBe(0);
        const list = JSON.parse((await prov(b, ['cluster', 'list', '--json'])).stdout);
        expect(list.clusters).toMatchObject([{ name: 'pgm', members: ['cs-1', 'cs-2'] }]);
        const plan = await prov(b, ['plan']);
        expect(plan.code, plan.stderr).toBe(0);
        expect(plan.stdout).toContain('No changes.');
        const d = await prov(b, ['cluster', 'destroy', 'pgm', '-y']);
        expect(d.code, d.stderr + d.stdout).toBe(0);
        expect(existsSync(join(hosts[0]!.root, 'opt/marker/cs-1'))).toBe(false);
        expect(JSON.parse((await prov(a, ['cluster', 'list', '--json'])).stdout).clusters).toEqual([]);
      } finally {
        await server.stop();
      }
    },
    180_000,
  );
});
