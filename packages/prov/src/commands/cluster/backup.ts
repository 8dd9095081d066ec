import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { usageError } from '@stratumiops/shared/errors';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';
import { backupCluster } from '../../core/cluster-pg.js';

export default class ClusterBackup extends ClusterCommand<typeof ClusterBackup> {
  static override summary = 'Back up a cluster to a local folder, with a manifest';
  static override description =
    'PostgreSQL clusters: pg_basebackup on the leader (tar, gzip, WAL included), copied here over SSH; every file’s SHA-256 is compared with the one computed on the member, and manifest.json (cluster, time, versions, system identifier, checksums) is written last. Each backup is a folder <output>/<time>/.';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = {
    file: clusterFlags.file,
    'accept-new-host-keys': clusterFlags['accept-new-host-keys'],
    output: Flags.string({ char: 'o', description: 'folder the backups go in', default: './backups' }),
    keep: Flags.integer({ description: 'keep only the newest N backups of this cluster in the folder', min: 1 }),
  };
  static override examples = [
    '<%= config.bin %> cluster backup pg-prod --output ./backups/',
    '<%= config.bin %> cluster backup pg-prod -o /srv/backups --keep 14',
  ];

  async run() {
    const ctx = await this.clusterContext();
    try {
      const rec = await ctx.clusters.get(this.args.name);
      if (rec.spec.kind !== 'postgresql-ha')
        throw usageError(`cluster ${rec.name} is ${rec.spec.kind}: backups are for PostgreSQL clusters so far`, {
          hint: 'for etcd-backed clusters use etcdctl snapshot save on a member (prov exec)',
        });
      const exec = await ctx.runtime.executor();
      const r = await backupCluster(exec, rec, await this.pgMembers(ctx, rec), resolve(this.flags.output), {
        ...(this.flags.keep ? { keep: this.flags.keep } : {}),
      });
      if (!this.jsonEnabled()) {
        const size = r.manifest.files.reduce((n, f) => n + f.size, 0);
        this.log(
          `Backup of ${rec.name} (PostgreSQL ${r.manifest.versions.postgresql}, from ${r.manifest.source.host}): ${r.dir} (${(size / 1048576).toFixed(1)} MB, ${r.manifest.files.length} files, sha256 verified)`,
        );
        for (const d of r.pruned) this.log(`  removed old backup ${d}`);
      }
      return { dir: r.dir, manifest: r.manifest, pruned: r.pruned };
    } finally {
      await ctx.runtime.close();
    }
  }
}
