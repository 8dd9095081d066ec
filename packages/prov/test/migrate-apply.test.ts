import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binPath } from '../../../test/run-bin.js';
import { freePortBlock, skipUnless } from '../../shared/src/testing/index.js';
import {
  type CloudHosts,
  type FakeClouds,
  type FakeEc2,
  type FakeUpcloud,
  startFakeClouds,
} from '../src/testing/index.js';
import { prov, workspace } from './support/hosts.js';

const PG = '/usr/lib/postgresql/15/bin';

/** The migration files left in a host's backups folder (full dumps: every row and the roles' password hashes). */
const leftDumps = (h: CloudHosts, server: string) => {
  const dir = join(h.hosts.get(server)!.root, 'var/backups');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('prov-migrate-')) : [];
};
const os = `os = { family = 'ubuntu, version = "22.04" }`;

type Config = (provider: 'aws' | 'upcloud', hosts: CloudHosts, port: number) => string;

/**
 * Both fake clouds with an sshd for `server` on each side, a workspace with aws.ncl and upcloud.ncl (a service on
 * its own port on each side: both "servers" are this machine), and aws.ncl applied.
 */
async function migrationWorkspace(server: string, gap: number, config: Config) {
  const clouds = await startFakeClouds({ aws: [server], upcloud: [server] });
  const base = await freePortBlock(gap + 1);
  const ports: [number, number] = [base, base + gap];
  const ws = workspace(config('aws', clouds.awsHosts, ports[0]), []);
  writeFileSync(join(ws.cwd, '.prov', 'known_hosts'), clouds.knownHosts());
  writeFileSync(join(ws.cwd, 'aws.ncl'), config('aws', clouds.awsHosts, ports[0]));
  writeFileSync(join(ws.cwd, 'upcloud.ncl'), config('upcloud', clouds.upcloudHosts, ports[1]));
  Object.assign(ws.env, clouds.env);
  const up = await prov(ws, ['apply', 'aws.ncl', '-y'], 120_000);
  expect(up.code, up.stderr + up.stdout).toBe(0);
  return { clouds, ws, ports };
}

/**
 * prov migrate apply from an AWS config to an UpCloud one, against the local EC2 and UpCloud API servers, whose
 * servers are throwaway sshd hosts: PostgreSQL really runs on the "EC2 instance", its rows really travel to the
 * "UpCloud server" (pg_dumpall over SSH, psql restore), and the fakes really terminate and delete what prov
 * destroys.
 */
describe.skipIf(skipUnless('sshd') || !existsSync(`${PG}/postgres`))('prov migrate apply (aws → upcloud)', () => {
  let awsHosts: CloudHosts;
  let ucHosts: CloudHosts;
  let ec2: FakeEc2;
  let uc: FakeUpcloud;
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  let ports: [number, number];
  let clouds: FakeClouds;

  const ssh = (h: CloudHosts, command: string) => {
    const s = h.hosts.get('db-1')!.sshd;
    return execFileSync(
      'ssh',
      [
        '-i',
        s.privateKeyPath,
        '-p',
        String(s.port),
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'LogLevel=ERROR',
        `${s.username}@${s.host}`,
        command,
      ],
      { encoding: 'utf8' },
    ).trim();
  };
  const psql = (h: CloudHosts, port: number, sql: string, db = 'app') =>
    ssh(
      h,
      `${PG}/psql -h ${h.hosts.get('db-1')!.root}/run/postgresql -p ${port} -d ${db} -v ON_ERROR_STOP=1 -Atc "${sql}"`,
    );

  const config = (provider: 'aws' | 'upcloud', hosts: CloudHosts, port: number) => {
    const user = hosts.hosts.get('db-1')!.sshd.username;
    const server =
      provider === 'aws'
        ? `{ name = "db-1", provider = 'aws, plan = "t3.small", spec = { cpu = 2, memory_gb = 2, disk_gb = 20, ${os} } }`
        : `{ name = "db-1", provider = 'upcloud, plan = "2xCPU-4GB", spec = { cpu = 2, memory_gb = 4, disk_gb = 50, ${os} }, networking.public_ip = true }`;
    return `let Infrastructure = import "infrastructure.ncl" in
{
  provider = '${provider},
  region = "${provider === 'aws' ? 'eu-west-1' : 'de-fra1'}",
  servers = [${server}],
  hosts = { ${hosts.hostEntry('db-1')} },
  taskservs = [{ name = 'postgresql, hosts = ["db-1"], config = { run_as = "${user}", init = "none", port = ${port} } }],
} | Infrastructure
`;
  };

  beforeEach(async () => {
    ({ clouds, ws, ports } = await migrationWorkspace('db-1', 1, config));
    ({ ec2, upcloud: uc, awsHosts, upcloudHosts: ucHosts } = clouds);
    psql(awsHosts, ports[0], 'CREATE DATABASE app', 'postgres');
    psql(
      awsHosts,
      ports[0],
      "CREATE TABLE orders (id int primary key, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 250) g",
    );
  }, 180_000);

  afterEach(async () => {
    // Stop the clusters the test started (uninstall may not have run on a failed path).
    for (const [h, port] of [
      [awsHosts, ports[0]],
      [ucHosts, ports[1]],
    ] as const) {
      const host = h?.hosts.get('db-1');
      if (!host) continue;
      try {
        execFileSync(
          'su',
          [
            '-s',
            '/bin/sh',
            host.sshd.username,
            '-c',
            `${PG}/pg_ctl -D ${host.root}/var/lib/prov-postgresql/main -m immediate -w stop`,
          ],
          { stdio: 'ignore' },
        );
      } catch {}
      void port;
    }
    await clouds?.stop();
  });

  /** Starts a migration and kills it (SIGKILL) while its data moves: the target exists, the source is frozen. */
  const killDuringDataMove = async () => {
    const child = spawn(process.execPath, [binPath('prov'), 'migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '-y'], {
      cwd: ws.cwd,
      env: ws.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/Move PostgreSQL databases .*\.\.\./.test(out) && !child.killed) child.kill('SIGKILL');
      });
      child.on('close', () => resolve());
    });
    const id = /migration (m\S+)/.exec(out)?.[1];
    expect(id, out).toBeTruthy();
    return id as string;
  };

  const stateAddresses = async () =>
    (
      JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout).resources as {
        address: string;
        provider: string;
      }[]
    )
      .map((r) => `${r.address} ${r.provider}`)
      .sort();

  it('moves the rows to the UpCloud server, terminates the EC2 instance, and state holds only the UpCloud side', async () => {
    const dry = await prov(ws, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Dry run: nothing was changed.');
    expect(uc.servers.size).toBe(0);

    const r = await prov(ws, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '-y'], 240_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\[\d+\/\d+\] Create server db-1 \(upcloud de-fra1 2xCPU-4GB\) \.\.\./);
    expect(r.stdout).toMatch(/Verify the moved data/);
    expect(r.stdout).toMatch(/Migration m\S+ complete/);

    expect(psql(ucHosts, ports[1], 'SELECT count(*), sum(id) FROM orders')).toBe('250|31375');
    // Writes go to the target.
    psql(ucHosts, ports[1], "INSERT INTO orders VALUES (251, 'after the switch')");
    const instances = [...ec2.instances.values()];
    expect(instances).toHaveLength(1);
    expect(instances[0]?.state).toMatch(/shutting-down|terminated/);
    expect(uc.servers.size).toBe(1);
    expect(await stateAddresses()).toEqual(['server.db-1 upcloud', 'taskserv.postgresql.db-1 local']);
    // The workspace state now is the target config, as if it had been applied: nothing to change.
    const after = await prov(ws, ['plan', 'upcloud.ncl'], 120_000);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('No changes.');

    const id = /Migration (m\S+) complete/.exec(r.stdout)![1]!;
    const st = JSON.parse((await prov(ws, ['migrate', 'status', id, '--json'])).stdout);
    expect(st.status).toBe('succeeded');
    expect(st.switched_at).toBeTruthy();
    const verify = st.plan.steps.find((s: { action: { type: string } }) => s.action.type === 'verify');
    expect(st.steps[verify.n].result).toEqual({ tables: 1, rows: 250 });
    // The dumps are gone from both hosts once the data was checked.
    expect(leftDumps(ucHosts, 'db-1')).toEqual([]);
    expect(leftDumps(awsHosts, 'db-1')).toEqual([]);
    // The lock was released; nothing is left to resume.
    expect((await prov(ws, ['migrate', 'resume', id])).code).toBe(6);
  }, 300_000);

  it('a failure on the UpCloud side rolls everything back: UpCloud emptied, the AWS side serves its rows', async () => {
    uc.fail = (method, path) => (method === 'POST' && path === '/server' ? 'INTERNAL_ERROR' : undefined);
    const r = await prov(ws, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '-y', '--json'], 240_000);
    expect(r.code, r.stderr).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.details.status).toBe('rolled_back');
    expect(uc.servers.size).toBe(0);
    expect(ec2.instances.size).toBe(1);
    expect([...ec2.instances.values()][0]?.state).toBe('running');
    expect(psql(awsHosts, ports[0], 'SELECT count(*) FROM orders')).toBe('250');
    expect(await stateAddresses()).toEqual(['server.db-1 aws', 'taskserv.postgresql.db-1 local']);
  }, 300_000);

  it('a failed restore undoes the target and lets writes in again on the source', async () => {
    // A tablespace at a path the target cannot use (both "servers" share this machine's disk, and the source
    // holds it): PostgreSQL refuses it on restore, so the data step fails after the target was created.
    const dir = `${awsHosts.hosts.get('db-1')!.root}/tblspc`;
    ssh(awsHosts, `mkdir -p ${dir}`);
    psql(awsHosts, ports[0], `CREATE TABLESPACE extra LOCATION '${dir}'`, 'postgres');
    const r = await prov(ws, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '-y', '--json'], 240_000);
    expect(r.code, r.stderr).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.details.status).toBe('rolled_back');
    expect(err.message).toMatch(/restore failed/);
    const steps = err.details.plan.steps as { n: number; action: { type: string } }[];
    const stepOf = (t: string) => err.details.steps[steps.find((s) => s.action.type === t)!.n].status;
    expect(stepOf('create')).toBe('rolled_back');
    expect(stepOf('freeze')).toBe('rolled_back');
    expect(uc.servers.size).toBe(0);
    expect(ucHosts.hosts.get('db-1')!.claimed).toBe(false);
    // The source takes writes again.
    psql(awsHosts, ports[0], "INSERT INTO orders VALUES (999, 'still writable')");
    expect(psql(awsHosts, ports[0], 'SELECT count(*) FROM orders')).toBe('251');
    // No dump is left behind on either host.
    expect(leftDumps(ucHosts, 'db-1')).toEqual([]);
    expect(leftDumps(awsHosts, 'db-1')).toEqual([]);
    expect(await stateAddresses()).toEqual(['server.db-1 aws', 'taskserv.postgresql.db-1 local']);
  }, 300_000);

  it('killed with SIGKILL in the middle, prov migrate resume finishes it once', async () => {
    const id = await killDuringDataMove();
    const st = JSON.parse((await prov(ws, ['migrate', 'status', id, '--json'])).stdout);
    expect(st.status).toBe('interrupted');
    // Another state-changing command is refused meanwhile: the lock is the dead migration's.
    expect((await prov(ws, ['apply', 'aws.ncl', '-y'])).code).toBe(6);

    const r = await prov(ws, ['migrate', 'resume', id], 240_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/complete/);
    expect(uc.servers.size).toBe(1);
    expect(ucHosts.hosts.get('db-1')!.claims).toBe(1);
    expect(psql(ucHosts, ports[1], 'SELECT count(*) FROM orders')).toBe('250');
    expect([...ec2.instances.values()][0]?.state).toMatch(/shutting-down|terminated/);
    expect(await stateAddresses()).toEqual(['server.db-1 upcloud', 'taskserv.postgresql.db-1 local']);
  }, 300_000);

  it('killed while undoing, prov migrate resume finishes the undo (through the orchestrator): the source serves', async () => {
    const id = await killDuringDataMove();
    // As if the data step had failed and the process died before undoing what came before it.
    const journal = join(ws.cwd, '.prov', 'migrations', id, 'run.json');
    const run = JSON.parse(readFileSync(journal, 'utf8'));
    const next = Math.max(...Object.keys(run.steps).map(Number)) + 1; // the data step, cut off
    run.steps[String(next)] = { status: 'failed', attempts: 1, error: 'the data move failed (simulated)' };
    writeFileSync(journal, JSON.stringify(run));
    const r = await prov(ws, ['migrate', 'resume', id, '--json'], 240_000);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(JSON.parse(r.stdout).error.details.status).toBe('rolled_back');
    expect(uc.servers.size).toBe(0);
    expect([...ec2.instances.values()][0]?.state).toBe('running');
    psql(awsHosts, ports[0], "INSERT INTO orders VALUES (998, 'writable again')");
    expect(await stateAddresses()).toEqual(['server.db-1 aws', 'taskserv.postgresql.db-1 local']);
  }, 300_000);

  it('the data check compares both ways: a database only on the target fails it, and the source stays', async () => {
    const id = await killDuringDataMove();
    // Something on the target the source never had: the restore leaves it, the check must see it.
    psql(ucHosts, ports[1], 'CREATE DATABASE stray', 'postgres');
    psql(ucHosts, ports[1], 'CREATE TABLE t (x int)', 'stray');
    const r = await prov(ws, ['migrate', 'resume', id, '--json'], 240_000);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.details.status).toBe('rolled_back');
    expect(err.message).toMatch(
      /differs from db-1: 0 table\(s\) or database\(s\) missing or different on db-1, 2 only on db-1/,
    );
    expect([...ec2.instances.values()][0]?.state).toBe('running');
    psql(awsHosts, ports[0], "INSERT INTO orders VALUES (999, 'still writable')");
    expect(await stateAddresses()).toEqual(['server.db-1 aws', 'taskserv.postgresql.db-1 local']);
  }, 300_000);
});

describe.skipIf(skipUnless('sshd') || skipUnless('etcd'))('prov migrate apply moves etcd keys (aws → upcloud)', () => {
  let awsHosts: CloudHosts;
  let ucHosts: CloudHosts;
  let ec2: FakeEc2;
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  let ports: [number, number];
  let clouds: FakeClouds;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const etcd = async (port: number, call: 'kv/put' | 'kv/range' | 'lease/grant', body: Record<string, string>) => {
    const r = await fetch(`http://127.0.0.1:${port}/v3/${call}`, { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`etcd ${call}: ${r.status}`);
    return (await r.json()) as { kvs?: { key: string; value: string }[]; ID?: string };
  };
  const config = (provider: 'aws' | 'upcloud', hosts: CloudHosts, port: number) => {
    const server =
      provider === 'aws'
        ? `{ name = "kv-1", provider = 'aws, plan = "t3.small", spec = { cpu = 2, memory_gb = 2, disk_gb = 20, ${os} } }`
        : `{ name = "kv-1", provider = 'upcloud, plan = "1xCPU-2GB", spec = { cpu = 1, memory_gb = 2, disk_gb = 50, ${os} }, networking.public_ip = true }`;
    return `let Infrastructure = import "infrastructure.ncl" in
{
  provider = '${provider},
  region = "${provider === 'aws' ? 'eu-west-1' : 'fi-hel1'}",
  servers = [${server}],
  hosts = { ${hosts.hostEntry('kv-1')} },
  taskservs = [{ name = 'etcd, hosts = ["kv-1"], config = { init = "none", client_port = ${port}, peer_port = ${port + 1} } }],
} | Infrastructure
`;
  };
  beforeEach(async () => {
    ({ clouds, ws, ports } = await migrationWorkspace('kv-1', 2, config));
    ({ ec2, awsHosts, upcloudHosts: ucHosts } = clouds);
  }, 180_000);
  afterEach(async () => {
    // Stop the etcd processes the test's applies started (their pid files), whatever path the test took.
    for (const h of [awsHosts, ucHosts]) {
      const root = h?.hosts.get('kv-1')?.root;
      if (!root || !existsSync(join(root, 'run/etcd.pid'))) continue;
      try {
        process.kill(Number(readFileSync(join(root, 'run/etcd.pid'), 'utf8').trim()));
      } catch {}
    }
    await clouds?.stop();
  });

  it('copies every key and value, checks them, then destroys the source', async () => {
    for (const [k, v] of [
      ['/app/config', '{"replicas":3}'],
      ['/app/leader', 'kv-1'],
      ['/weird key\n"quoted"', "it's $(not) `code`"],
    ])
      await etcd(ports[0], 'kv/put', { key: b64(k!), value: b64(v!) });
    // A key under a lease (a leader key): copied without its lease it would never expire, so it stays behind.
    const lease = await etcd(ports[0], 'lease/grant', { TTL: '600' });
    await etcd(ports[0], 'kv/put', { key: b64('/service/leader'), value: b64('kv-1'), lease: lease.ID! });
    const r = await prov(ws, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '-y'], 240_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).not.toMatch(/Freeze writes/);
    expect(r.stdout).toMatch(/Warning: .*1 etcd key\(s\) under a lease not copied.*"\/service\/leader"/);
    const id = /Migration (m\S+) complete/.exec(r.stdout)![1]!;
    const st = JSON.parse((await prov(ws, ['migrate', 'status', id, '--json'])).stdout);
    expect(st.warnings).toHaveLength(1);
    expect(leftDumps(ucHosts, 'kv-1')).toEqual([]);
    expect(leftDumps(awsHosts, 'kv-1')).toEqual([]);
    const got = await etcd(ports[1], 'kv/range', { key: 'AA==', range_end: 'AA==' });
    const kv = Object.fromEntries(
      (got.kvs ?? []).map((x) => [Buffer.from(x.key, 'base64').toString(), Buffer.from(x.value, 'base64').toString()]),
    );
    expect(kv).toEqual({
      '/app/config': '{"replicas":3}',
      '/app/leader': 'kv-1',
      '/weird key\n"quoted"': "it's $(not) `code`",
    });
    expect([...ec2.instances.values()][0]?.state).toMatch(/shutting-down|terminated/);
    const list = JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout).resources as { address: string }[];
    expect(list.map((x) => x.address).sort()).toEqual(['server.kv-1', 'taskserv.etcd.kv-1']);
  }, 300_000);
});
