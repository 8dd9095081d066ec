import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StratumError, usageError, validationError } from '@stratumiops/shared/errors';
import type { ClusterRecord } from './cluster.js';
import {
  type BackupManifest,
  ETCD_SNAPSHOT,
  etcdSnapshot,
  manifestHead,
  privateDir,
  verifyBackup,
} from './cluster-pg.js';
import { type Executor, HostError, type HostTarget, shq } from './executor.js';
import { writeAtomic } from './workspace.js';

/**
 * Where backups go besides a local folder: `sftp://HOST/path`, HOST one of the workspace's hosts (its SSH
 * connection, key and known host as for any step), path absolute on it.
 */
export function parseSftp(target: string): { host: string; path: string } | undefined {
  if (!target.startsWith('sftp://')) return undefined;
  const m = /^sftp:\/\/([A-Za-z0-9][A-Za-z0-9._-]*)(\/.*)$/.exec(target);
  if (!m || m[2]!.split('/').some((p) => p === '..'))
    throw usageError(`not a backup target: ${target}`, { hint: 'sftp://HOST/absolute/path, HOST from hosts' });
  return { host: m[1]!, path: m[2]!.replace(/\/+$/, '') || '/' };
}

/**
 * Copies a finished local backup folder to `remoteDir` on `host` over SFTP: the files first, manifest.json last
 * (a folder without it is not a backup), then every file's SHA-256 computed on the host and compared with the
 * manifest's.
 */
export async function pushBackup(exec: Executor, host: HostTarget, localDir: string, remoteDir: string) {
  const manifest = await verifyBackup(localDir);
  const mk = await exec.run(host, { name: 'backup folder', script: `mkdir -p -m 700 ${shq(remoteDir)}` });
  if (mk.exitCode !== 0) throw new HostError(host.name, 'command', `mkdir ${remoteDir}: ${mk.stderr.trim()}`);
  for (const f of manifest.files)
    await exec.upload(host, readFileSync(join(localDir, f.name)), `${remoteDir}/${f.name}`, 0o600);
  await exec.upload(host, readFileSync(join(localDir, 'manifest.json')), `${remoteDir}/manifest.json`, 0o600);
  const sums = await exec.run(host, {
    name: 'checksums',
    script: `cd ${shq(remoteDir)} && sha256sum -- ${manifest.files.map((f) => shq(f.name)).join(' ')}`,
  });
  const got = new Map(
    sums.stdout
      .split('\n')
      .map((l) => /^([0-9a-f]{64})\s+\*?(.+)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => Boolean(m))
      .map((m) => [m[2]!, m[1]!]),
  );
  for (const f of manifest.files)
    if (got.get(f.name) !== f.sha256)
      throw new StratumError('failure', `${host.name}:${remoteDir}/${f.name}: checksum differs after the copy`);
  return manifest;
}

/**
 * Fetches a backup folder from `host` into `localDir`: manifest.json first, then the files it lists (names
 * checked: no path leaves the folder), then every checksum verified here, before anything is restored.
 */
export async function pullBackup(
  exec: Executor,
  host: HostTarget,
  remoteDir: string,
  localDir: string,
): Promise<BackupManifest> {
  if (!exec.download) throw new StratumError('unavailable', 'this executor cannot copy files back');
  privateDir(localDir);
  try {
    await exec.download(host, `${remoteDir}/manifest.json`, join(localDir, 'manifest.json'));
  } catch (e) {
    throw new StratumError('notFound', `no backup at sftp://${host.name}${remoteDir}: ${(e as Error).message}`);
  }
  let m: BackupManifest;
  try {
    m = JSON.parse(readFileSync(join(localDir, 'manifest.json'), 'utf8')) as BackupManifest;
  } catch (e) {
    throw validationError(`sftp://${host.name}${remoteDir}/manifest.json is not JSON: ${(e as Error).message}`);
  }
  for (const f of m.files ?? []) {
    if (typeof f.name !== 'string' || f.name.includes('/') || f.name.startsWith('.'))
      throw validationError(`sftp://${host.name}${remoteDir}/manifest.json: bad file name ${String(f.name)}`);
    await exec.download(host, `${remoteDir}/${f.name}`, join(localDir, f.name));
  }
  return verifyBackup(localDir);
}

/** The etcd members of a cluster that runs etcd as a service of its own: host and client endpoint. */
export function etcdMembers(rec: ClusterRecord, targets: Record<string, HostTarget>) {
  return rec.spec.services
    .filter((s) => s.service === 'etcd')
    .map((s) => {
      const host = targets[s.host];
      if (!host) throw validationError(`cluster ${rec.name}: member ${s.host} is not a known host`);
      const member = rec.spec.members.find((m) => m.host === s.host);
      return { host, endpoint: `${member?.address ?? host.address}:${String(s.config.client_port ?? 2379)}` };
    });
}

/** A backup of an etcd-backed cluster that is not a PostgreSQL one: the etcd snapshot and its manifest. */
export async function backupEtcdCluster(
  exec: Executor,
  rec: ClusterRecord,
  targets: Record<string, HostTarget>,
  outputDir: string,
): Promise<{ dir: string; manifest: BackupManifest }> {
  const members = etcdMembers(rec, targets);
  const first = members[0];
  if (!first)
    throw usageError(`cluster ${rec.name} runs no etcd of its own and is not a PostgreSQL cluster: nothing to back up`);
  const dir = join(outputDir, new Date().toISOString().slice(0, 19).replaceAll(':', '-'));
  privateDir(dir);
  const snap = await etcdSnapshot(exec, first.host, first.endpoint, join(dir, ETCD_SNAPSHOT));
  const manifest: BackupManifest = {
    ...manifestHead(rec),
    method: 'etcd-snapshot',
    source: { host: first.host.name, role: 'etcd', timeline: null },
    versions: { postgresql: '', postgresql_major: '' },
    system_identifier: '',
    files: [{ name: ETCD_SNAPSHOT, size: snap.size, sha256: snap.sha256 }],
    etcd: { file: ETCD_SNAPSHOT, endpoint: first.endpoint, method: snap.method, revision: snap.revision },
  };
  writeAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, 0o600);
  return { dir, manifest };
}
