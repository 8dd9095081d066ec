import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';
import { backupEtcdCluster, etcdMembers, parseSftp, pushBackup } from '../../core/cluster-backup.js';
import { type BackupManifest, backupCluster } from '../../core/cluster-pg.js';

export default class ClusterBackup extends ClusterCommand<typeof ClusterBackup> {
  static override summary = 'Back up a cluster to a local folder or over SFTP, with a manifest';
  static override description =
    'PostgreSQL clusters: pg_basebackup on the leader (tar, gzip, WAL included) and a snapshot of the etcd that is their DCS; other clusters that run etcd: its snapshot. The snapshot is taken with etcdctl snapshot save where the member has etcdctl, else through etcd’s gRPC gateway, and checked against the hash etcd appends to it. Files are copied here over SSH, every SHA-256 compared with the one computed on the member, and manifest.json (cluster, time, versions, system identifier, checksums) is written last. Each backup is a folder <output>/<time>/; with --output sftp://HOST/path it is then copied to that host over its SSH connection and its checksums verified there.';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = {
    file: clusterFlags.file,
    'accept-new-host-keys': clusterFlags['accept-new-host-keys'],
    output: Flags.string({
      char: 'o',
      description: 'folder the backups go in, or sftp://HOST/path (HOST from hosts)',
      default: './backups',
    }),
    keep: Flags.integer({ description: 'keep only the newest N backups of this cluster in the folder', min: 1 }),
  };
  static override examples = [
    '<%= config.bin %> cluster backup pg-prod --output ./backups/',
    '<%= config.bin %> cluster backup pg-prod -o /srv/backups --keep 14',
    '<%= config.bin %> cluster backup pg-prod -o sftp://backup-1/srv/backups/pg-prod',
  ];

  async run() {
    const remote = parseSftp(this.flags.output);
    if (remote && this.flags.keep)
      throw usageError('--keep prunes a local folder only', { hint: 'prune the remote folder on its host' });
    const ctx = await this.clusterContext();
    const local = remote ? mkdtempSync(join(tmpdir(), 'prov-backup-')) : resolve(this.flags.output);
    try {
      const rec = await ctx.clusters.get(this.args.name);
      const exec = await ctx.runtime.executor();
      let r: { dir: string; manifest: BackupManifest; pruned: string[] };
      if (rec.spec.kind === 'postgresql-ha') {
        r = await backupCluster(exec, rec, await this.pgMembers(ctx, rec), local, {
          ...(this.flags.keep ? { keep: this.flags.keep } : {}),
        });
      } else {
        const targets = await ctx.targets(rec);
        if (!etcdMembers(rec, targets).length)
          throw usageError(`cluster ${rec.name} is ${rec.spec.kind} and runs no etcd of its own: nothing to back up`);
        r = { ...(await backupEtcdCluster(exec, rec, targets, local)), pruned: [] };
      }
      let where = r.dir;
      if (remote) {
        const [host] = await ctx.runtime.targets([remote.host]);
        const dir = `${remote.path}/${basename(r.dir)}`;
        await pushBackup(exec, host!, r.dir, dir);
        where = `sftp://${remote.host}${dir}`;
      }
      if (!this.jsonEnabled()) {
        const size = r.manifest.files.reduce((n, f) => n + f.size, 0);
        const what =
          r.manifest.method === 'pg_basebackup'
            ? `PostgreSQL ${r.manifest.versions.postgresql}${r.manifest.etcd ? ' and its etcd' : ''}`
            : 'etcd snapshot';
        this.log(
          `Backup of ${rec.name} (${what}, from ${r.manifest.source.host}): ${where} (${(size / 1048576).toFixed(1)} MB, ${r.manifest.files.length} files, sha256 verified)`,
        );
        for (const d of r.pruned) this.log(`  removed old backup ${d}`);
      }
      return { dir: where, manifest: r.manifest, pruned: r.pruned };
    } finally {
      if (remote) rmSync(local, { recursive: true, force: true });
      await ctx.runtime.close();
    }
  }
}
