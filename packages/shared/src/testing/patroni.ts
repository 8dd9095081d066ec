import { randomBytes } from 'node:crypto';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertAvailable,
  currentUser,
  findExecutable,
  findPostgresBinDir,
  isRoot,
  lookupUser,
} from './availability.js';
import { type EtcdServer, startEtcd } from './etcd.js';
import { getFreePort, LOOPBACK } from './ports.js';
import { cleanEnv, makeTempDir, once, removeDir, type ServerProcess, spawnServer, waitUntilReady } from './process.js';

export interface PatroniMember {
  name: string;
  /** PostgreSQL on 127.0.0.1:pgPort; Patroni's REST API on 127.0.0.1:restPort. */
  pgPort: number;
  restPort: number;
  api: string;
  dataDir: string;
  pid: number;
}

export interface PatroniMemberState {
  name: string;
  role: string;
  state: string;
  lag?: number;
  timeline?: number;
}

export interface PatroniCluster {
  scope: string;
  members: PatroniMember[];
  /** The database superuser (scram password auth over TCP). */
  user: string;
  password: string;
  /** The etcd holding the leader key (started here unless one was given). */
  etcd: EtcdServer;
  /** Patroni's /cluster view: each member's role, state and lag. */
  status(): Promise<PatroniMemberState[]>;
  /** Waits for a running leader and returns its name. */
  leader(timeoutMs?: number): Promise<string>;
  dir: string;
  stop(): Promise<void>;
}

export interface PatroniOptions {
  members?: number;
  /** An etcd to use as the DCS; default: a throwaway one, stopped with the cluster. */
  etcd?: EtcdServer;
  readyTimeoutMs?: number;
}

/**
 * A throwaway PostgreSQL HA cluster run by Patroni (Debian's package, the distribution's PostgreSQL) with an
 * etcd DCS, every member on free loopback ports in one temp dir, fast timings (failover in seconds, and at
 * once when the leader's PostgreSQL crashes). Ready when one member leads and all run. As root the members
 * run as the `postgres` system user.
 */
export async function startPatroni(opts: PatroniOptions = {}): Promise<PatroniCluster> {
  assertAvailable('patroni');
  assertAvailable('postgres');
  const bin = findExecutable('patroni')!;
  const pgBin = findPostgresBinDir()!;
  const runAs = isRoot() ? lookupUser('postgres')! : currentUser();
  const ids = isRoot() ? { uid: runAs.uid, gid: runAs.gid } : {};
  const etcd = opts.etcd ?? (await startEtcd());
  const dir = await makeTempDir('patroni', isRoot() ? runAs : undefined);
  const scope = `test-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const procs: ServerProcess[] = [];
  const members: PatroniMember[] = [];
  const stop = once(async () => {
    await Promise.all(procs.map((p) => p.stop({ timeoutMs: 30_000 })));
    if (!opts.etcd) await etcd.stop();
    await removeDir(dir);
  });
  try {
    for (let i = 1; i <= (opts.members ?? 3); i++) {
      const name = `pg-${i}`;
      const home = join(dir, name);
      await mkdir(home, { mode: 0o700 });
      if (isRoot()) await chown(home, runAs.uid, runAs.gid);
      const pgPort = await getFreePort();
      const restPort = await getFreePort();
      const config = join(home, 'patroni.yml');
      await writeFile(
        config,
        patroniYaml({ scope, name, home, pgPort, restPort, etcd: etcd.endpoint, pgBin, user: runAs.name, password }),
      );
      if (isRoot()) await chown(config, runAs.uid, runAs.gid);
      const p = spawnServer({
        name: `patroni ${name}`,
        command: bin,
        args: [config],
        env: cleanEnv(['PG', 'PATRONI_'], { HOME: home, LC_ALL: 'C.UTF-8' }),
        cwd: home,
        ...ids,
      });
      procs.push(p);
      members.push({
        name,
        pgPort,
        restPort,
        api: `http://${LOOPBACK}:${restPort}`,
        dataDir: join(home, 'data'),
        pid: p.pid,
      });
    }
    const status = async (): Promise<PatroniMemberState[]> => {
      for (const m of members) {
        try {
          const res = await fetch(`${m.api}/cluster`, { signal: AbortSignal.timeout(2_000) });
          return ((await res.json()) as { members: PatroniMemberState[] }).members;
        } catch {}
      }
      throw new Error('no Patroni REST API answers');
    };
    await waitUntilReady(
      procs[0]!,
      async () => {
        const s = await status();
        const running = s.filter((m) => m.state === 'running' || m.state === 'streaming');
        if (running.length !== members.length || !s.some((m) => m.role === 'leader'))
          throw new Error(`members: ${JSON.stringify(s)}`);
      },
      { what: `a leader and ${members.length} running members`, timeoutMs: opts.readyTimeoutMs ?? 120_000 },
    );
    const leader = async (timeoutMs = 60_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const l = (await status().catch(() => [])).find((m) => m.role === 'leader' && m.state === 'running');
        if (l) return l.name;
        if (Date.now() > until) throw new Error(`no leader within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    return { scope, members, user: runAs.name, password, etcd, status, leader, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function patroniYaml(c: {
  scope: string;
  name: string;
  home: string;
  pgPort: number;
  restPort: number;
  etcd: string;
  pgBin: string;
  user: string;
  password: string;
}): string {
  return `scope: ${c.scope}
name: ${c.name}
namespace: /stratum-test/
restapi:
  listen: ${LOOPBACK}:${c.restPort}
  connect_address: ${LOOPBACK}:${c.restPort}
  authentication: {username: test, password: '${c.password}'}
etcd3:
  hosts: '${c.etcd.replace(/^https?:\/\//, '')}'
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 2
    retry_timeout: 5
    primary_start_timeout: 0
    postgresql:
      use_pg_rewind: true
      parameters: {wal_log_hints: 'on', fsync: 'off', synchronous_commit: 'off'}
  initdb: [{encoding: UTF8}, {locale: C}]
  pg_hba:
    - local all all trust
    - host replication replicator ${LOOPBACK}/32 scram-sha-256
    - host all all ${LOOPBACK}/32 scram-sha-256
postgresql:
  listen: ${LOOPBACK}:${c.pgPort}
  connect_address: ${LOOPBACK}:${c.pgPort}
  data_dir: ${join(c.home, 'data')}
  bin_dir: ${c.pgBin}
  pgpass: ${join(c.home, 'pgpass')}
  authentication:
    superuser: {username: '${c.user}', password: '${c.password}'}
    replication: {username: replicator, password: '${c.password}'}
    rewind: {username: rewinder, password: '${c.password}'}
  parameters:
    unix_socket_directories: '${c.home}'
`;
}
