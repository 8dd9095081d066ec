import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortBlock, skipUnless } from '../../shared/src/testing/index.js';
import { dbClusterOnOneMachine } from '../src/testing/index.js';
import { hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/**
 * A real PostgreSQL HA cluster made by `prov cluster create --template db-cluster`: Debian's Patroni and
 * PostgreSQL 15, a 3-member etcd installed by the etcd taskserv, on three throwaway sshd hosts. The hosts
 * share this machine, so members get distinct ports (port_stride) and each installs into its own tree
 * (the host's root); nothing needs systemd or root (init = none, run as the SSH user).
 */
const skip = skipUnless('sshd') || skipUnless('patroni') || skipUnless('etcd') || skipUnless('postgres');

interface Member {
  host: string;
  role: string;
  state: string;
  pg_port: number;
  lag_mb: number | null;
}

describe.skipIf(skip)('db-cluster: PostgreSQL HA with Patroni over SSH', () => {
  let hosts: TestHost[];
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  let backupDir = '';
  let backupRows = -1;
  let sftpBackup = '';
  let sftpRows = -1;
  let extraHosts: TestHost[] = [];
  // Member i (1-based) takes base + (i - 1) * 10 + 0..3 (port_stride = 10): a block probed free first.
  let base = 0;
  let settings: string[] = [];

  const show = async () => {
    const r = await prov(ws, ['cluster', 'show', 'pg', '--json']);
    const out = JSON.parse(r.stdout || r.stderr) as { leader: string | null; healthy: boolean; members: Member[] };
    return {
      ...(out.members ? out : ((out as unknown as { error: { details: typeof out } }).error?.details ?? out)),
      code: r.code,
    };
  };
  const until = async <T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000) => {
    const end = Date.now() + timeoutMs;
    let last: T | undefined;
    while (Date.now() < end) {
      last = await f();
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`${what}: never happened; last: ${JSON.stringify(last)}`);
  };
  const password = (h: TestHost) => {
    const yml = readFileSync(join(h.root, 'etc/patroni/pg.yml'), 'utf8');
    return /superuser: \{username: '[^']*', password: '([^']*)'\}/.exec(yml)![1]!;
  };
  const client = async (port: number) => {
    const c = new pg.Client({
      host: '127.0.0.1',
      port,
      user: hosts[0]!.sshd.username,
      password: password(hosts[0]!),
      database: 'postgres',
    });
    await c.connect();
    return c;
  };
  const query = async (port: number, text: string) => {
    const c = await client(port);
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };
  const portOf = (host: string) => base + (Number(host.split('-')[1]) - 1) * 10;
  /** Waits until a member (a replica catching up) has n rows in items. */
  const rowsOn = (host: string, n: number) =>
    until(
      `${n} rows on ${host}`,
      () => query(portOf(host), 'SELECT count(*)::int AS n FROM items').catch(() => [{ n: -1 }]),
      (x) => x[0]?.n === n,
    );

  beforeAll(async () => {
    base = await freePortBlock(30);
    settings = dbClusterOnOneMachine(base).flatMap((x) => ['--set', x]);
    hosts = await startHosts(3, 'db');
    const cfg = `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} } } | Infrastructure
`;
    ws = workspace(cfg, hosts);
    settings.push('--set', `run_as=${hosts[0]!.sshd.username}`);
  }, 60_000);
  afterAll(async () => {
    // Stop every Patroni (it stops its PostgreSQL) and etcd the cluster started, then the hosts.
    if (ws) await prov(ws, ['cluster', 'destroy', 'pg', '-y'], 180_000).catch(() => {});
    if (ws && extraHosts.length) await prov(ws, ['cluster', 'destroy', 'pg2', '-y'], 180_000).catch(() => {});
    for (const h of [...(hosts ?? []), ...extraHosts]) {
      for (const f of ['run/patroni-pg.pid', 'run/patroni-pg2.pid', 'run/etcd.pid']) {
        const p = join(h.root, f);
        if (existsSync(p)) {
          try {
            process.kill(Number(readFileSync(p, 'utf8').trim()), 'SIGKILL');
          } catch {}
        }
      }
      const pm = join(h.root, 'var/lib/pg/data/postmaster.pid');
      if (existsSync(pm)) {
        try {
          process.kill(Number(readFileSync(pm, 'utf8').split('\n')[0]), 'SIGKILL');
        } catch {}
      }
    }
    await stopHosts([...hosts, ...extraHosts]);
  }, 240_000);

  it('lists the template, and a dry run shows what it would install without touching a host', async () => {
    const list = JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout);
    expect(list.templates.map((t: { name: string }) => t.name)).toContain('db-cluster');
    const dry = await prov(ws, [
      'cluster',
      'create',
      'pg',
      '--template',
      'db-cluster',
      '--servers',
      'db-1,db-2,db-3',
      ...settings,
      '--dry-run',
      '--json',
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    const spec = JSON.parse(dry.stdout).spec;
    expect(spec.services.map((s: { service: string; host: string }) => `${s.service}@${s.host}`)).toEqual([
      'etcd@db-1',
      'etcd@db-2',
      'etcd@db-3',
      'patroni@db-1',
      'patroni@db-2',
      'patroni@db-3',
    ]);
    expect(readdirSync(hosts[0]!.root)).toEqual([]);
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const badName = await prov(ws, ['cluster', 'create', 'Bad_Name', '--template', 'db-cluster', '--servers', 'db-1']);
    expect(badName.code).toBe(2);
    const badSetting = await prov(ws, [
      'cluster',
      'create',
      'pg',
      '--template',
      'db-cluster',
      '--servers',
      'db-1',
      '--set',
      'port_stride=ten',
    ]);
    expect(badSetting.code, badSetting.stderr).toBe(3);
    const noTemplate = await prov(ws, ['cluster', 'create', 'pg', '--template', 'nope', '--servers', 'db-1']);
    expect(noTemplate.code).toBe(4);
    expect(noTemplate.stderr).toContain('db-cluster');
    const twice = await prov(ws, [
      'cluster',
      'create',
      'pg',
      '--template',
      'db-cluster',
      '--servers',
      'db-1,db-1',
      '--dry-run',
    ]);
    expect(twice.code).toBe(2);
    expect(readdirSync(hosts[0]!.root)).toEqual([]);
  });

  it('creates 3 members: one leader, two streaming replicas; rows written on the leader are read on both replicas', async () => {
    const r = await prov(
      ws,
      ['cluster', 'create', 'pg', '--template', 'db-cluster', '--servers', 'db-1,db-2,db-3', ...settings, '-y'],
      300_000,
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // Generated passwords reach the members only: never the state database or the cluster record.
    const pw = password(hosts[0]!);
    for (const f of ['.prov/state.db', '.prov/state.db-wal', '.prov/clusters/pg.json']) {
      const p = join(ws.cwd, f);
      if (existsSync(p)) expect(readFileSync(p).includes(pw), f).toBe(false);
    }
    const s = await until(
      'all members running',
      show,
      (x) => x.healthy && x.members.every((m) => m.state === 'running' || m.state === 'streaming'),
    );
    expect(s.members.filter((m) => m.role === 'leader').map((m) => m.host)).toHaveLength(1);
    const leader = s.leader!;
    const replicas = s.members.filter((m) => m.host !== leader);
    expect(replicas.map((m) => m.role)).toEqual(['replica', 'replica']);

    await query(portOf(leader), 'CREATE TABLE items (id int primary key, name text)');
    await query(portOf(leader), "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
    for (const m of replicas) {
      await rowsOn(m.host, 100);
      await expect(query(portOf(m.host), 'INSERT INTO items VALUES (999, $$x$$)')).rejects.toThrow(/read-only/);
    }
  }, 360_000);

  it("kill the leader's PostgreSQL: a replica is promoted, show reports it, and it accepts writes", async () => {
    const before = await show();
    const old = before.leader!;
    const h = hosts.find((x) => x.name === old)!;
    const pid = Number(readFileSync(join(h.root, 'var/lib/pg/data/postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    const after = await until('a new leader', show, (x) => Boolean(x.leader) && x.leader !== old, 120_000);
    const leader = after.leader!;
    await query(portOf(leader), "INSERT INTO items VALUES (101, 'after failover')");
    const rows = await query(portOf(leader), 'SELECT count(*)::int AS n FROM items');
    expect(rows[0].n).toBe(101);
    // The old leader comes back as a replica of the new one (pg_rewind) and catches up.
    const healed = await until(
      'old leader back as replica',
      show,
      (x) => x.healthy && x.members.find((m) => m.host === old)?.role === 'replica',
      120_000,
    );
    expect(healed.leader).toBe(leader);
    await rowsOn(old, 101);
  }, 300_000);

  it('backup: a folder with the base backup, WAL and a manifest (cluster, time, versions, checksums)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'prov-backups-'));
    backupRows = (await query(portOf((await show()).leader!), 'SELECT count(*)::int AS n FROM items'))[0].n;
    const r = await prov(ws, ['cluster', 'backup', 'pg', '--output', out, '--json'], 180_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const b = JSON.parse(r.stdout);
    const m = JSON.parse(readFileSync(join(b.dir, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ format: 'prov-backup/1', cluster: 'pg', kind: 'postgresql-ha', method: 'pg_basebackup' });
    expect(m.versions.postgresql_major).toBe('15');
    // WAL is fetched into base.tar.gz; backup_manifest is PostgreSQL's own list of the backup's files; the etcd
    // that is the cluster's DCS is in it too, as etcd's own snapshot (its trailing hash checked when taken).
    expect(m.files.map((f: { name: string }) => f.name).sort()).toEqual([
      'backup_manifest',
      'base.tar.gz',
      'etcd.snapshot.db',
    ]);
    expect(m.etcd).toMatchObject({ file: 'etcd.snapshot.db' });
    expect(['etcdctl', 'grpc-gateway']).toContain(m.etcd.method);
    const snap = readFileSync(join(b.dir, 'etcd.snapshot.db'));
    expect(snap.length % 512).toBe(32);
    expect(createHash('sha256').update(snap.subarray(0, -32)).digest().equals(snap.subarray(-32))).toBe(true);
    for (const f of m.files) {
      const sum = execFileSync('sha256sum', [join(b.dir, f.name)], { encoding: 'utf8' }).split(' ')[0];
      expect(sum).toBe(f.sha256);
    }
    // The backup is the data itself: readable by its owner only.
    expect(statSync(b.dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(b.dir)) expect([f, statSync(join(b.dir, f)).mode & 0o777]).toEqual([f, 0o600]);
    backupDir = b.dir;
  }, 240_000);

  it('backup to sftp://HOST/path: the folder lands on that host with its manifest, checksums verified there', async () => {
    const base = join(hosts[2]!.root, 'srv/backups');
    sftpRows = (await query(portOf((await show()).leader!), 'SELECT count(*)::int AS n FROM items'))[0].n;
    const r = await prov(ws, ['cluster', 'backup', 'pg', '--output', `sftp://db-3${base}`, '--json'], 180_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const b = JSON.parse(r.stdout);
    expect(b.dir).toMatch(new RegExp(`^sftp://db-3${base}/`));
    const dir = b.dir.replace('sftp://db-3', '');
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    for (const f of m.files) {
      const sum = execFileSync('sha256sum', [join(dir, f.name)], { encoding: 'utf8' }).split(' ')[0];
      expect(sum, f.name).toBe(f.sha256);
    }
    sftpBackup = b.dir;
    expect((await prov(ws, ['cluster', 'backup', 'pg', '-o', 'sftp://db-3/x', '--keep', '2'])).code).toBe(2);
  }, 240_000);

  it('the backup workflow: a backup per run, only the newest `keep` left; status shows the timeline', async () => {
    const out = mkdtempSync(join(tmpdir(), 'prov-wf-backups-'));
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await prov(
        ws,
        ['workflow', 'run', 'backup', '--cluster', 'pg', '--set', `output=${out}`, '--set', 'keep=1', '--json'],
        180_000,
      );
      expect(r.code, r.stderr + r.stdout).toBe(0);
      ids.push(JSON.parse(r.stdout).id);
      // Backups are named by the second they were taken.
      await new Promise((res) => setTimeout(res, 1100));
    }
    const left = readdirSync(out);
    expect(left).toHaveLength(1);
    const last = JSON.parse((await prov(ws, ['workflow', 'status', ids[1]!, '--json'])).stdout);
    expect(last.status).toBe('succeeded');
    expect(last.done[0].result.dir).toBe(join(out, left[0]!));
    expect(last.timeline.map((e: { type: string }) => e.type)).toEqual(['run-start', 'start', 'done', 'run-end']);
  }, 400_000);

  it('scale 3 → 2: a replica leaves the cluster before its data is removed; 2 → 3: it comes back and streams', async () => {
    const before = await show();
    const down = await prov(ws, ['cluster', 'scale', 'pg', '--members', '2', '-y', '--json'], 240_000);
    expect(down.code, down.stderr + down.stdout).toBe(0);
    const removed = JSON.parse(down.stdout).removed as string[];
    expect(removed).toHaveLength(1);
    expect(removed[0]).not.toBe(before.leader);
    const gone = hosts.find((h) => h.name === removed[0])!;
    expect(existsSync(join(gone.root, 'var/lib/pg/data'))).toBe(false);
    const two = await show();
    expect(two.healthy).toBe(true);
    expect(two.members.map((m) => m.host).sort()).toEqual(hosts.map((h) => h.name).filter((n) => n !== removed[0]));
    await query(portOf(two.leader!), "INSERT INTO items VALUES (102, 'two members')");

    const up = await prov(ws, ['cluster', 'scale', 'pg', '--members', '3', '-y', '--json'], 300_000);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(JSON.parse(up.stdout).added).toEqual(removed);
    const three = await until('3 members', show, (x) => x.healthy && x.members.length === 3);
    expect(three.members.filter((m) => m.role === 'replica')).toHaveLength(2);
    await rowsOn(removed[0]!, 102);
  }, 600_000);

  it('upgrade with a failing health check stops at the first member, rolls it back, never touches the next', async () => {
    const ymls = () => hosts.map((h) => readFileSync(join(h.root, 'etc/patroni/pg.yml'), 'utf8'));
    const before = ymls();
    const status = await show();
    const r = await prov(
      ws,
      [
        'cluster',
        'upgrade',
        'pg',
        '--set',
        'max_connections=150',
        '--check',
        'echo "not ready on $host" >&2; exit 1',
        '-y',
        '--json',
      ],
      300_000,
    );
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout || r.stderr).error;
    const first = err.details.failed as string;
    // Replicas go first: the failed member is a replica, and it is back on what it had.
    expect(first).not.toBe(status.leader);
    expect(err.details.rolled_back).toBe(true);
    expect(err.details.upgraded).toEqual([]);
    expect(err.details.untouched).toHaveLength(2);
    expect(err.message).toContain('not ready on');
    expect(ymls()).toEqual(before);
    const after = await until('healthy after the rollback', show, (x) => x.healthy);
    expect(after.members).toHaveLength(3);
  }, 400_000);

  it('a passing rolling upgrade: replicas first, the leader last after a switchover; every member healthy', async () => {
    const before = await show();
    const r = await prov(
      ws,
      [
        'cluster',
        'upgrade',
        'pg',
        '--set',
        'max_connections=120',
        '--check',
        'test -S "$socket_dir/.s.PGSQL.$pg_port"',
        '-y',
        '--json',
      ],
      600_000,
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.upgraded).toHaveLength(3);
    expect(out.order.at(-1)).toBe(before.leader);
    for (const h of hosts)
      expect(readFileSync(join(h.root, 'etc/patroni/pg.yml'), 'utf8')).toContain('max_connections: 120');
    const after = await until('healthy after the upgrade', show, (x) => x.healthy);
    // The old leader handed over before its restart.
    expect(after.leader).not.toBe(before.leader);
  }, 700_000);

  it('restore: rows dropped after the backup come back, checksums verified first; a damaged backup changes nothing', async () => {
    const s = await show();
    await query(portOf(s.leader!), 'DROP TABLE items');
    // A damaged copy is refused before any member is touched.
    const bad = mkdtempSync(join(tmpdir(), 'prov-bad-backup-'));
    for (const f of ['manifest.json', 'base.tar.gz', 'backup_manifest']) copyFileSync(join(backupDir, f), join(bad, f));
    writeFileSync(join(bad, 'base.tar.gz'), 'garbage');
    const refused = await prov(ws, ['cluster', 'restore', 'pg', '--from', bad, '-y']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('damaged');
    expect((await show()).healthy).toBe(true);

    const r = await prov(ws, ['cluster', 'restore', 'pg', '--from', backupDir, '-y', '--json'], 400_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const after = await until('healthy after restore', show, (x) => x.healthy && x.members.length === 3);
    const rows = await query(portOf(after.leader!), 'SELECT count(*)::int AS n FROM items');
    expect(rows[0].n).toBe(backupRows);
    for (const m of after.members.filter((x) => x.host !== after.leader)) await rowsOn(m.host, backupRows);
  }, 600_000);

  it('restore into a new cluster from the sftp backup: a damaged remote copy is refused; then rows and identity are back', async () => {
    extraHosts = await startHosts(2, 'dbx');
    const extra = extraHosts[0];
    const cfg = `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${[...hosts, ...extraHosts].map((h) => hostEntry(h)).join(', ')} } } | Infrastructure
`;
    writeFileSync(join(ws.cwd, 'prov.ncl'), cfg);
    // The new cluster's ports: a block nobody listens on now, away from the first cluster's.
    const newBase = await freePortBlock(24);
    const sets = [
      `pg_port=${newBase}`,
      `rest_port=${newBase + 1}`,
      `etcd_client_port=${newBase + 2}`,
      `etcd_peer_port=${newBase + 3}`,
    ].flatMap((x) => ['--set', x]);
    // A copy with one byte changed: refused before any cluster is made.
    const dir = sftpBackup.replace('sftp://db-3', '');
    const bad = `${dir}-bad`;
    execFileSync('cp', ['-a', dir, bad]);
    writeFileSync(join(bad, 'backup_manifest'), `${readFileSync(join(bad, 'backup_manifest'), 'utf8')} `);
    const refused = await prov(ws, [
      'cluster',
      'restore',
      'pg2',
      '--from',
      `sftp://db-3${bad}`,
      '--servers',
      'dbx-1,dbx-2',
      ...sets,
      '-y',
      '--accept-new-host-keys',
    ]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain('damaged');
    expect(
      JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout).clusters.map((c: { name: string }) => c.name),
    ).toEqual(['pg']);

    const r = await prov(
      ws,
      [
        'cluster',
        'restore',
        'pg2',
        '--from',
        sftpBackup,
        '--servers',
        'dbx-1,dbx-2',
        ...sets,
        '-y',
        '--json',
        '--accept-new-host-keys',
      ],
      600_000,
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(out).toMatchObject({ cluster: 'pg2', created: true, system_identifier: m.system_identifier });
    // The new cluster's own password (its roles were given it): rows back on the leader and on the replica,
    // which cloned from it.
    const newPassword = /superuser: \{username: '[^']*', password: '([^']*)'\}/.exec(
      readFileSync(join(extra!.root, 'etc/patroni/pg2.yml'), 'utf8'),
    )![1]!;
    expect(newPassword).not.toBe(password(hosts[0]!));
    const rowsAt = async (port: number) => {
      const c = new pg.Client({
        host: '127.0.0.1',
        port,
        user: hosts[0]!.sshd.username,
        password: newPassword,
        database: 'postgres',
      });
      await c.connect();
      try {
        return (await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n as number;
      } finally {
        await c.end();
      }
    };
    expect(await rowsAt(newBase)).toBe(sftpRows);
    await until(
      'rows on the new replica',
      () => rowsAt(newBase + 10).catch(() => -1),
      (n) => n === sftpRows,
    );
    const show = JSON.parse((await prov(ws, ['cluster', 'show', 'pg2', '--json'])).stdout);
    expect(show.leader).toBe('dbx-1');
    expect(show.healthy).toBe(true);
  }, 700_000);
});
