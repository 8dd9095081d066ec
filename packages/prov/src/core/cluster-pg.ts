import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StratumError, validationError } from '@stratumiops/shared/errors';
import { byCodeUnits } from '@stratumiops/shared/order';
import type { ClusterRecord } from './cluster.js';
import { type Executor, HostError, type HostTarget, installRoot, shq } from './executor.js';
import type { Attrs } from './types.js';
import { writeAtomic } from './workspace.js';

/**
 * Operations on a PostgreSQL HA cluster run by Patroni: roles and lag from Patroni's REST API, SQL on a
 * member over its local socket (peer login as the cluster's system user, so prov never needs a database
 * password), pg_basebackup backups with a manifest, and restores that rebuild the cluster from one.
 */

export interface MemberStatus {
  host: string;
  /** leader, replica, sync_standby, standby_leader, or unknown when its API does not answer. */
  role: string;
  /** running, streaming, starting, stopped, crashed, ... as Patroni reports; unreachable when it does not answer. */
  state: string;
  /** Replication lag in MB behind the leader (replicas only). */
  lag_mb: number | null;
  timeline: number | null;
  /** PostgreSQL version the member runs, e.g. 15.5. */
  version: string | null;
  pg_port: number;
  rest_port: number;
}

export interface ClusterStatus {
  name: string;
  leader: string | null;
  healthy: boolean;
  members: MemberStatus[];
  /** Member names the cluster itself lists (Patroni's /cluster): a removed member is gone from here. */
  listed: string[];
}

export interface PgMember {
  host: HostTarget;
  config: Attrs;
  version: string;
}

/** The Patroni members of a cluster record: host target, the member's patroni config (ports, folders), version. */
export function pgMembers(rec: ClusterRecord, targets: Record<string, HostTarget>): PgMember[] {
  return rec.spec.services
    .filter((s) => s.service === 'patroni')
    .map((s) => {
      const host = targets[s.host];
      if (!host) throw validationError(`cluster ${rec.name}: member ${s.host} is not a known host`);
      return { host, config: s.config, version: s.version ?? rec.spec.version };
    });
}

const num = (v: unknown) => Number(v);
const str = (v: unknown) => String(v);

/** GET on a member's Patroni REST API, read on the member itself (the API need not be reachable from here). */
async function restGet(exec: Executor, m: PgMember, path: string): Promise<Attrs | null> {
  const url = `http://${str(m.config.member_address)}:${num(m.config.rest_port)}${path}`;
  // /patroni and /cluster answer 200; /health and /leader answer 503 for "no", still with a JSON body.
  const r = await exec.run(m.host, { name: `GET ${path}`, script: `curl -sS --max-time 5 ${shq(url)}`, timeoutS: 15 });
  if (r.exitCode !== 0 || !r.stdout.trim()) return null;
  try {
    return JSON.parse(r.stdout) as Attrs;
  } catch {
    return null;
  }
}

/** Roles, states, lag and versions of every member, from the first member whose API answers, plus each /patroni. */
export async function clusterStatus(exec: Executor, name: string, members: PgMember[]): Promise<ClusterStatus> {
  let view: Attrs[] = [];
  for (const m of members) {
    const c = await restGet(exec, m, '/cluster').catch(() => null);
    if (c && Array.isArray(c.members)) {
      view = c.members as Attrs[];
      break;
    }
  }
  const out = await Promise.all(
    members.map(async (m): Promise<MemberStatus> => {
      const seen = view.find((v) => v.name === m.host.name);
      const own = await restGet(exec, m, '/patroni').catch(() => null);
      const sv = own?.server_version ? num(own.server_version) : null;
      return {
        host: m.host.name,
        // Patroni 3.0 still says master in /patroni where /cluster says leader.
        role: seen ? str(seen.role) : own ? str(own.role ?? 'unknown').replace(/^master$/, 'leader') : 'unknown',
        state: seen ? str(seen.state) : own ? str(own.state) : 'unreachable',
        lag_mb: seen && typeof seen.lag === 'number' ? Math.round((seen.lag / 1048576) * 100) / 100 : null,
        timeline: seen?.timeline !== undefined ? num(seen.timeline) : null,
        version: sv ? `${Math.floor(sv / 10000)}.${sv % 10000}` : null,
        pg_port: num(m.config.pg_port),
        rest_port: num(m.config.rest_port),
      };
    }),
  );
  const leaders = out.filter((m) => m.role === 'leader' && m.state === 'running');
  const healthy =
    leaders.length === 1 && out.every((m) => m.state === 'running' || m.state === 'streaming') && out.length > 0;
  return { name, leader: leaders[0]?.host ?? null, healthy, members: out, listed: view.map((v) => str(v.name)) };
}

/** Polls until `ok` holds for the cluster's status; the last status is in the error when it never does. */
export async function waitForStatus(
  exec: Executor,
  name: string,
  members: PgMember[],
  ok: (s: ClusterStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<ClusterStatus> {
  const until = Date.now() + timeoutMs;
  let last: ClusterStatus | undefined;
  for (;;) {
    last = await clusterStatus(exec, name, members);
    if (ok(last)) return last;
    if (Date.now() > until) {
      throw new StratumError('failure', `cluster ${name}: ${what} did not happen within ${timeoutMs / 1000} s`, {
        details: { status: last },
        hint: `prov cluster show ${name}`,
      });
    }
    await delay(1000);
  }
}

/** Runs SQL on a member through its local socket as the cluster's system user; returns psql's unaligned rows. */
export async function sql(exec: Executor, m: PgMember, text: string, db = 'postgres'): Promise<string> {
  const root = installRoot(m.host);
  const runAs = str(m.config.run_as);
  const psql = [
    `/usr/lib/postgresql/${m.version}/bin/psql`,
    '-X',
    '-v',
    'ON_ERROR_STOP=1',
    '-At',
    '-h',
    `${root}/run/patroni`,
    '-p',
    String(m.config.pg_port),
    '-U',
    runAs,
    '-d',
    db,
    '-f',
    '-',
  ]
    .map(shq)
    .join(' ');
  const r = await exec.run(m.host, {
    name: 'sql',
    script: `if [ "$(id -un)" = ${shq(runAs)} ]; then printf '%s' "$SQL" | ${psql}; else printf '%s' "$SQL" | su -s /bin/sh ${shq(runAs)} -c ${shq(psql)}; fi`,
    env: { SQL: text },
    sudo: root === '' && m.host.user !== runAs,
    timeoutS: 120,
  });
  if (r.exitCode !== 0) throw new HostError(m.host.name, 'command', `SQL failed: ${r.stderr.trim()}`, { result: r });
  return r.stdout.trim();
}

// ---------- backup ----------

export interface BackupManifest {
  format: 'prov-backup/1';
  cluster: string;
  template: string;
  kind: string;
  created_at: string;
  method: 'pg_basebackup' | 'etcd-snapshot';
  source: { host: string; role: string; timeline: number | null };
  versions: { postgresql: string; postgresql_major: string };
  system_identifier: string;
  files: { name: string; size: number; sha256: string }[];
  /** The etcd snapshot beside the data (the DCS of a db-cluster): the file among `files`, and how it was taken. */
  etcd?: { file: string; endpoint: string; method: 'etcdctl' | 'grpc-gateway'; revision: number | null };
  /** The template parameters the cluster was made with: what a new cluster restored from it starts from. */
  params?: { settings: Attrs; version?: string };
}

const stamp = (d = new Date()) => d.toISOString().slice(0, 19).replaceAll(':', '-');

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

export const ETCD_SNAPSHOT = 'etcd.snapshot.db';

/**
 * The pg_hba.conf lines that let a member at `address` replicate and connect: an IPv4 address as /32, an IPv6 one
 * as /128, a host name as it is (PostgreSQL resolves it). Anything else is refused, never written into the file.
 */
export function memberHbaLines(address: string): string[] {
  let where: string;
  if (isIPv4(address)) where = `${address}/32`;
  else if (isIPv6(address)) where = `${address}/128`;
  else if (/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/.test(address))
    where = address;
  else throw validationError(`${JSON.stringify(address)} is not an IP address or a host name`);
  return [`host replication replicator ${where} scram-sha-256`, `host all all ${where} scram-sha-256`];
}

/**
 * A SCRAM-SHA-256 verifier of `password` as PostgreSQL stores it (RFC 5802/7677):
 * `SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey`. Given to ALTER ROLE … PASSWORD, the clear password never
 * leaves this machine (no command line, environment or server log on the member sees it). Like PostgreSQL, a
 * password that is not plain ASCII is normalized first (NFKC, what SASLprep amounts to for passwords).
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range
  const prepared = /^[\x00-\x7f]*$/.test(password) ? password : password.normalize('NFKC');
  const salted = pbkdf2Sync(prepared, salt, iterations, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const stored = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const server = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${stored.toString('base64')}:${server.toString('base64')}`;
}

/** A folder for backup files: created if missing, its owner's only (0700) even if it was there already. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** What every backup manifest starts with: which cluster, made from what, when. */
export const manifestHead = (rec: ClusterRecord) => ({
  format: 'prov-backup/1' as const,
  cluster: rec.name,
  template: rec.template,
  kind: rec.spec.kind,
  created_at: new Date().toISOString(),
});

/**
 * An etcd snapshot, taken on `host` (which reaches the member at `endpoint`) and copied to `localFile`: with
 * `etcdctl snapshot save` when the host has etcdctl, else through etcd's gRPC gateway (POST
 * /v3/maintenance/snapshot, the same stream etcdctl reads). Either way the file ends with the SHA-256 etcd
 * appends to a snapshot, checked here: a truncated or damaged snapshot is an error, not a backup.
 */
export async function etcdSnapshot(
  exec: Executor,
  host: HostTarget,
  endpoint: string,
  localFile: string,
): Promise<{ size: number; sha256: string; method: 'etcdctl' | 'grpc-gateway'; revision: number | null }> {
  if (!exec.download) throw new StratumError('unavailable', 'this executor cannot copy files back');
  const root = installRoot(host);
  const url = `http://${endpoint}`;
  const r = await exec.run(host, {
    name: 'etcd snapshot',
    script: [
      'set -e',
      'tmp=$(mktemp -d)',
      `ctl=$(command -v etcdctl || true); [ -n "$ctl" ] || { [ -x ${shq(`${root}/usr/local/bin/etcdctl`)} ] && ctl=${shq(`${root}/usr/local/bin/etcdctl`)}; } || true`,
      `if [ -n "$ctl" ]; then ETCDCTL_API=3 "$ctl" --endpoints ${shq(url)} snapshot save "$tmp/snap" >&2; echo "method=etcdctl"`,
      `else curl -fsS --max-time 600 -X POST ${shq(`${url}/v3/maintenance/snapshot`)} -d '{}' -o "$tmp/snap"; echo "method=grpc-gateway"; fi`,
      `echo "revision=$(curl -fsS --max-time 10 -X POST ${shq(`${url}/v3/kv/range`)} -d '{"key":"AA==","limit":1}' | grep -o '"revision":"[0-9]*"' | head -1 | tr -dc 0-9)" || true`,
      'echo "file=$tmp/snap"',
    ].join('\n'),
    timeoutS: 900,
  });
  const out = Object.fromEntries(
    r.stdout
      .split('\n')
      .map((l) => /^(\w+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => Boolean(m))
      .map((m) => [m[1]!, m[2]!]),
  );
  if (r.exitCode !== 0 || !out.file)
    throw new HostError(host.name, 'command', `etcd snapshot from ${endpoint} failed: ${r.stderr.trim()}`, {
      result: r,
    });
  const method = out.method === 'etcdctl' ? 'etcdctl' : 'grpc-gateway';
  try {
    await exec.download(host, out.file, localFile);
  } finally {
    await exec.run(host, { name: 'clean', script: `rm -rf ${shq(out.file.replace(/\/snap$/, ''))}` });
  }
  let data = readFileSync(localFile);
  if (method === 'grpc-gateway') {
    // A stream of JSON messages, each with a base64 piece of the snapshot.
    const text = data.toString('utf8');
    const parts: Buffer[] = [];
    for (const line of text.split(/\n|(?<=\})(?=\{)/)) {
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as { result?: { blob?: string }; error?: { message?: string } };
      if (msg.error) throw new StratumError('failure', `etcd snapshot from ${endpoint}: ${msg.error.message}`);
      if (msg.result?.blob) parts.push(Buffer.from(msg.result.blob, 'base64'));
    }
    data = Buffer.concat(parts);
    writeFileSync(localFile, data, { mode: 0o600 });
  }
  const body = data.subarray(0, data.length - 32);
  if (
    data.length % 512 !== 32 ||
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(data.subarray(data.length - 32))
  )
    throw new StratumError(
      'failure',
      `the etcd snapshot from ${endpoint} is damaged or truncated (${data.length} bytes)`,
    );
  return {
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    method,
    revision: out.revision ? Number(out.revision) : null,
  };
}

/**
 * A full backup taken with pg_basebackup on the leader (tar, gzip, WAL included), copied here over sftp,
 * each file's SHA-256 compared with the one computed on the member, then a manifest written last: a folder
 * without manifest.json is not a backup.
 */
export async function backupCluster(
  exec: Executor,
  rec: ClusterRecord,
  members: PgMember[],
  outputDir: string,
  opts: { keep?: number } = {},
): Promise<{ dir: string; manifest: BackupManifest; pruned: string[] }> {
  if (!exec.download) throw new StratumError('unavailable', 'this executor cannot copy files back');
  const status = await clusterStatus(exec, rec.name, members);
  const leader = members.find((m) => m.host.name === status.leader);
  if (!leader)
    throw new StratumError('unavailable', `cluster ${rec.name} has no running leader to back up`, {
      hint: `prov cluster show ${rec.name}`,
    });
  const root = installRoot(leader.host);
  const runAs = str(leader.config.run_as);
  const name = stamp();
  const remote = `${root}/var/backups/prov/${rec.name}/${name}`;
  const bin = `/usr/lib/postgresql/${leader.version}/bin`;
  const args = [
    `${bin}/pg_basebackup`,
    '-h',
    `${root}/run/patroni`,
    '-p',
    String(leader.config.pg_port),
    '-U',
    runAs,
    '-D',
    remote,
    '-Ft',
    '-z',
    '-X',
    'fetch',
    '--checkpoint=fast',
  ]
    .map(shq)
    .join(' ');
  const take = await exec.run(leader.host, {
    name: 'pg_basebackup',
    script: `set -e; mkdir -p ${shq(remote)}; if [ "$(id -un)" = ${shq(runAs)} ]; then ${args}; else chown ${shq(runAs)} ${shq(remote)}; su -s /bin/sh ${shq(runAs)} -c ${shq(args)}; fi; cd ${shq(remote)} && sha256sum -- * && wc -c -- * | grep -v ' total$'`,
    sudo: root === '' && leader.host.user !== runAs,
    timeoutS: 3600,
  });
  if (take.exitCode !== 0)
    throw new HostError(leader.host.name, 'command', `pg_basebackup failed: ${take.stderr.trim()}`, { result: take });
  const sums = new Map<string, string>();
  const sizes = new Map<string, number>();
  for (const line of take.stdout.split('\n')) {
    const s = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
    if (s) sums.set(s[2]!, s[1]!);
    const z = /^(\d+)\s+(.+)$/.exec(line.trim());
    if (z) sizes.set(z[2]!, Number(z[1]));
  }
  const dir = join(outputDir, name);
  privateDir(dir);
  const files: BackupManifest['files'] = [];
  try {
    for (const [file, sum] of [...sums].sort()) {
      const local = join(dir, file);
      await exec.download(leader.host, `${remote}/${file}`, local);
      const got = await sha256File(local);
      if (got !== sum) throw new StratumError('failure', `${file}: checksum differs after the copy (${got} ≠ ${sum})`);
      files.push({ name: file, size: statSync(local).size, sha256: got });
    }
    // The DCS too: etcd's own snapshot, verified by the hash etcd appends to it, in the same folder and manifest.
    const endpoint = str(leader.config.etcd_hosts).split(',')[0]!;
    const snap = await etcdSnapshot(exec, leader.host, endpoint, join(dir, ETCD_SNAPSHOT));
    files.push({ name: ETCD_SNAPSHOT, size: snap.size, sha256: snap.sha256 });
    const version = await sql(exec, leader, 'SHOW server_version');
    const sysid = await sql(exec, leader, 'SELECT system_identifier FROM pg_control_system()');
    const manifest: BackupManifest = {
      ...manifestHead(rec),
      method: 'pg_basebackup',
      source: {
        host: leader.host.name,
        role: 'leader',
        timeline: status.members.find((m) => m.host === leader.host.name)?.timeline ?? null,
      },
      versions: { postgresql: version.split(' ')[0] ?? version, postgresql_major: leader.version },
      system_identifier: sysid,
      files,
      etcd: { file: ETCD_SNAPSHOT, endpoint, method: snap.method, revision: snap.revision },
      params: { settings: rec.settings, ...(rec.version ? { version: rec.version } : {}) },
    };
    writeAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, 0o600);
    const pruned = opts.keep ? pruneBackups(outputDir, rec.name, opts.keep) : [];
    return { dir, manifest, pruned };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    await exec.run(leader.host, {
      name: 'clean',
      script: `rm -rf ${shq(remote)}`,
      sudo: root === '' && leader.host.user !== runAs,
    });
  }
}

/** Keeps the newest `keep` backups of a cluster in a folder (by their manifests' time); returns what it removed. */
export function pruneBackups(outputDir: string, cluster: string, keep: number): string[] {
  const backups = readdirSync(outputDir)
    .map((n) => join(outputDir, n))
    .filter((d) => existsSync(join(d, 'manifest.json')))
    .map((d) => ({ d, m: JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as BackupManifest }))
    .filter((b) => b.m.cluster === cluster)
    .sort((a, b) => byCodeUnits(b.m.created_at, a.m.created_at));
  const drop = backups.slice(keep).map((b) => b.d);
  for (const d of drop) rmSync(d, { recursive: true, force: true });
  return drop;
}

/** Reads a backup's manifest and checks every file against it; throws (exit 3) on anything missing or altered. */
export async function verifyBackup(dir: string): Promise<BackupManifest> {
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf))
    throw new StratumError('notFound', `${dir} holds no manifest.json: not a prov backup (or an unfinished one)`);
  let m: BackupManifest;
  try {
    m = JSON.parse(readFileSync(mf, 'utf8')) as BackupManifest;
  } catch (e) {
    throw validationError(`${mf} is not valid JSON: ${(e as Error).message}`);
  }
  if (m.format !== 'prov-backup/1' || !Array.isArray(m.files) || m.files.length === 0)
    throw validationError(`${mf} is not a prov backup manifest`);
  for (const f of m.files) {
    if (f.name.includes('/') || f.name.startsWith('.')) throw validationError(`${mf}: bad file name ${f.name}`);
    const p = join(dir, f.name);
    if (!existsSync(p)) throw validationError(`backup file ${f.name} is missing from ${dir}`);
    const got = await sha256File(p);
    if (got !== f.sha256)
      throw validationError(`backup file ${f.name} is damaged: sha256 ${got}, manifest says ${f.sha256}`);
  }
  return m;
}

/**
 * Rebuilds the cluster from a verified backup: every member stopped (replicas first), the cluster's keys
 * removed from etcd, the backup unpacked into the first member's empty data folder, that member started
 * (Patroni adopts the data and leads), the others emptied and started so they clone from it. Verified:
 * one leader, every member running, and the leader's system identifier equal to the backup's.
 */
export async function restoreCluster(
  exec: Executor,
  rec: ClusterRecord,
  members: PgMember[],
  dir: string,
  phase: (m: PgMember, p: 'stop' | 'start') => Promise<void>,
  log: (s: string) => void = () => {},
  opts: { fresh?: boolean } = {},
): Promise<{ leader: string; system_identifier: string; manifest: BackupManifest }> {
  const manifest = await verifyBackup(dir);
  if (manifest.kind !== 'postgresql-ha') throw validationError(`${dir} is a ${manifest.kind} backup, not PostgreSQL`);
  const target = members[0];
  if (!target) throw validationError(`cluster ${rec.name} has no members`);
  if (manifest.versions.postgresql_major !== target.version)
    throw validationError(
      `the backup is of PostgreSQL ${manifest.versions.postgresql_major}; cluster ${rec.name} runs ${target.version}`,
    );
  // Into a new cluster: its members' addresses may connect (the backup's pg_hba.conf names the old ones).
  const hba = opts.fresh ? [...new Set(members.flatMap((m) => memberHbaLines(m.host.address)))] : [];
  log(`backup ${dir}: ${manifest.files.length} files verified (sha256)`);
  const before = await clusterStatus(exec, rec.name, members).catch(() => undefined);
  const leaderLast = [...members].sort(
    (a, b) => Number(a.host.name === before?.leader) - Number(b.host.name === before?.leader),
  );
  for (const m of leaderLast) {
    log(`stopping ${m.host.name}`);
    await phase(m, 'stop');
  }
  await forgetInDcs(exec, target, rec.name);
  const root = installRoot(target.host);
  const runAs = str(target.config.run_as);
  const asOwner = root === '' && target.host.user !== runAs;
  const staging = `${root}/var/backups/prov/${rec.name}/restore-${stamp()}`;
  const mk = await exec.run(target.host, { name: 'staging', script: `mkdir -p ${shq(staging)}`, sudo: asOwner });
  if (mk.exitCode !== 0) throw new HostError(target.host.name, 'command', `mkdir ${staging}: ${mk.stderr.trim()}`);
  const pgFiles = manifest.files.filter((f) => f.name !== manifest.etcd?.file);
  for (const f of pgFiles)
    await exec.upload(target.host, readFileSync(join(dir, f.name)), `${staging}/${f.name}`, 0o600);
  const data = `${root}${str(target.config.data_dir)}`;
  const unpack = await exec.run(target.host, {
    name: 'unpack',
    script: [
      'set -e',
      `cd ${shq(staging)}`,
      ...pgFiles.map(
        (f) =>
          `[ "$(sha256sum < ${shq(f.name)} | cut -d' ' -f1)" = ${f.sha256} ] || { echo ${shq(`${f.name} changed in transfer`)} >&2; exit 1; }`,
      ),
      `rm -rf ${shq(data)}`,
      `mkdir -p -m 700 ${shq(data)}`,
      `tar -xzf base.tar.gz -C ${shq(data)}`,
      `mkdir -p ${shq(`${data}/pg_wal`)}`,
      `if [ -f pg_wal.tar.gz ]; then tar -xzf pg_wal.tar.gz -C ${shq(`${data}/pg_wal`)}; fi`,
      ...(hba.length ? [`printf '%s\\n' ${hba.map(shq).join(' ')} >> ${shq(`${data}/pg_hba.conf`)}`] : []),
      asOwner ? `chown -R ${shq(runAs)} ${shq(data)}` : 'true',
      `chmod 700 ${shq(data)}`,
      `cd / && rm -rf ${shq(staging)}`,
    ].join('\n'),
    sudo: asOwner,
    timeoutS: 3600,
  });
  if (unpack.exitCode !== 0)
    throw new HostError(target.host.name, 'command', `unpacking the backup failed: ${unpack.stderr.trim()}`);
  log(`starting ${target.host.name} on the restored data`);
  await phase(target, 'start');
  await waitForStatus(exec, rec.name, [target], (s) => s.leader === target.host.name, `${target.host.name} leading`);
  if (opts.fresh) {
    // The restored roles have the old cluster's passwords: this cluster's (from its members' Patroni config) are
    // set, so its replicas can clone and Patroni can rewind. Sent as SCRAM verifiers, never in clear.
    const pw = await readSecrets(exec, target);
    const lit = (v: unknown) => `'${scramVerifier(String(v))}'`;
    // Patroni names the leader as soon as it promotes: the server leaves recovery (and takes writes) a moment later.
    for (let i = 0; (await sql(exec, target, 'SELECT pg_is_in_recovery()')) !== 'f'; i++) {
      if (i >= 120) throw new StratumError('failure', `${target.host.name} is still in recovery after its promotion`);
      await delay(500);
    }
    await sql(
      exec,
      target,
      [
        `ALTER ROLE ${JSON.stringify(runAs)} PASSWORD ${lit(pw.superuser_password)}`,
        `ALTER ROLE replicator PASSWORD ${lit(pw.replication_password)}`,
        `ALTER ROLE rewinder PASSWORD ${lit(pw.rewind_password)}`,
      ].join(';\n'),
    );
    log('roles given this cluster’s passwords');
  }
  for (const m of members.slice(1)) {
    const r = installRoot(m.host);
    const wipe = await exec.run(m.host, {
      name: 'empty data',
      script: `rm -rf ${shq(`${r}${str(m.config.data_dir)}`)}`,
      sudo: r === '' && m.host.user !== str(m.config.run_as),
    });
    if (wipe.exitCode !== 0)
      throw new HostError(m.host.name, 'command', `emptying the data folder: ${wipe.stderr.trim()}`);
    log(`starting ${m.host.name} (clones from ${target.host.name})`);
    await phase(m, 'start');
  }
  const after = await waitForStatus(exec, rec.name, members, (s) => s.healthy, 'every member running');
  const sysid = await sql(exec, target, 'SELECT system_identifier FROM pg_control_system()');
  if (sysid !== manifest.system_identifier)
    throw new StratumError(
      'failure',
      `restored cluster has system identifier ${sysid}, the backup ${manifest.system_identifier}`,
    );
  return { leader: after.leader!, system_identifier: sysid, manifest };
}

/** Removes the cluster's keys (leader, members, initialize) from etcd through its v3 JSON gateway. */
async function forgetInDcs(exec: Executor, m: PgMember, scope: string): Promise<void> {
  const endpoint = str(m.config.etcd_hosts).split(',')[0];
  const ns = str(m.config.namespace ?? '/service/').replace(/\/?$/, '/');
  const prefix = `${ns}${scope}/`;
  // The end of a prefix range is the prefix with its last byte increased ('/' + 1 = '0').
  const end = `${prefix.slice(0, -1)}0`;
  const body = JSON.stringify({
    key: Buffer.from(prefix).toString('base64'),
    range_end: Buffer.from(end).toString('base64'),
  });
  const r = await exec.run(m.host, {
    name: 'forget in etcd',
    script: `curl -fsS --max-time 10 -X POST ${shq(`http://${endpoint}/v3/kv/deleterange`)} -d ${shq(body)}`,
    timeoutS: 30,
  });
  if (r.exitCode !== 0)
    throw new HostError(m.host.name, 'command', `removing ${prefix} from etcd ${endpoint} failed: ${r.stderr.trim()}`);
}

/**
 * The generated passwords, read back from a member's patroni.yml (they live only on the members, never in
 * state): a new member or a reconfigured one needs the same ones.
 */
export async function readSecrets(exec: Executor, m: PgMember): Promise<Attrs> {
  const root = installRoot(m.host);
  const r = await exec.run(m.host, {
    name: 'read secrets',
    script: `cat ${shq(`${root}/etc/patroni/${str(m.config.scope)}.yml`)}`,
    sudo: root === '' && m.host.user !== 'root',
  });
  if (r.exitCode !== 0)
    throw new HostError(m.host.name, 'command', `cannot read the Patroni config: ${r.stderr.trim()}`, { result: r });
  const key: Record<string, string> = {
    authentication: 'rest_password',
    superuser: 'superuser_password',
    replication: 'replication_password',
    rewind: 'rewind_password',
  };
  const out: Attrs = {};
  for (const line of r.stdout.split('\n')) {
    const x =
      /^\s*(authentication|superuser|replication|rewind): \{username: .*, password: '((?:[^']|'')*)'\}\s*$/.exec(line);
    if (x) out[key[x[1]!]!] = x[2]!.replaceAll("''", "'");
  }
  for (const k of Object.values(key))
    if (!out[k]) throw new HostError(m.host.name, 'command', `the Patroni config has no ${k.replace('_', ' ')}`);
  exec.redact?.(Object.values(out).map(String));
  return out;
}

/**
 * Hands the leader role to a healthy replica through Patroni's REST API (authenticated: changes need the
 * API password), then waits until the new leader runs; a rolling change does the leader last this way.
 */
export async function switchover(
  exec: Executor,
  name: string,
  members: PgMember[],
  from: PgMember,
  to: string,
  restPassword: string,
): Promise<void> {
  const url = `http://${str(from.config.member_address)}:${num(from.config.rest_port)}/switchover`;
  const body = JSON.stringify({ leader: from.host.name, candidate: to });
  const r = await exec.run(from.host, {
    name: 'switchover',
    script: `curl -sS --max-time 60 -u "prov:$REST_PASSWORD" -H 'Content-Type: application/json' -X POST ${shq(url)} -d ${shq(body)} -w '\n%{http_code}'`,
    env: { REST_PASSWORD: restPassword },
    timeoutS: 90,
  });
  const code = r.stdout.trim().split('\n').pop();
  if (r.exitCode !== 0 || code !== '200')
    throw new HostError(
      from.host.name,
      'command',
      `switchover to ${to} refused: ${r.stdout.trim()} ${r.stderr.trim()}`,
    );
  await waitForStatus(exec, name, members, (s) => s.leader === to && s.healthy, `${to} leading`);
}
