import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { usageError } from '@stratumiops/shared/errors';
import { approve } from '../../base.js';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';
import { restoreCluster, verifyBackup } from '../../core/cluster-pg.js';

export default class ClusterRestore extends ClusterCommand<typeof ClusterRestore> {
  static override summary = 'Restore a cluster from a backup folder (verified)';
  static override description =
    'Checks every file of the backup against its manifest first (nothing is touched when one differs), then stops every member, clears the cluster from etcd, unpacks the backup on the first member, starts it (it leads), and lets the others clone from it. Done when every member runs and the leader’s system identifier is the backup’s. Replaces the cluster’s current data.';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = {
    ...clusterFlags,
    from: Flags.string({ description: 'a backup folder (with manifest.json)', required: true }),
    'auto-approve': Flags.boolean({ char: 'y', description: 'restore without asking' }),
  };
  static override examples = ['<%= config.bin %> cluster restore pg-prod --from ./backups/2026-12-07T10-00-00/ -y'];

  async run() {
    const dir = resolve(this.flags.from);
    const manifest = await verifyBackup(dir);
    const ctx = await this.clusterContext();
    try {
      const rec = await ctx.clusters.get(this.args.name);
      if (rec.spec.kind !== 'postgresql-ha') throw usageError(`cluster ${rec.name} is not a PostgreSQL cluster`);
      await approve(
        `Replace all data of ${rec.name} with the backup of ${manifest.cluster} taken ${manifest.created_at}?`,
        this.flags['auto-approve'],
        this.jsonEnabled(),
      );
      const exec = await ctx.runtime.executor();
      const members = await this.pgMembers(ctx, rec);
      const log = (s: string) => {
        if (!this.jsonEnabled()) this.log(s);
      };
      const r = await restoreCluster(exec, rec, members, dir, this.memberPhase(ctx.runtime, exec), log);
      log(
        `Restored ${rec.name} from ${dir}: leader ${r.leader}, system identifier ${r.system_identifier} (as backed up).`,
      );
      return { cluster: rec.name, from: dir, leader: r.leader, system_identifier: r.system_identifier };
    } finally {
      await ctx.runtime.close();
    }
  }
}
