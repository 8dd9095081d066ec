import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';

export default class ClusterDestroy extends ClusterCommand<typeof ClusterDestroy> {
  static override summary = 'Uninstall every service of a cluster from its members and forget the cluster';
  static override description =
    'One run, in reverse dependency order (Patroni before etcd), checkpointed like any apply. Data folders are removed with the services: take a backup first (prov cluster backup).';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = {
    ...clusterFlags,
    parallelism: Flags.integer({ description: 'hosts at the same time', default: 10, min: 1 }),
    'auto-approve': Flags.boolean({ char: 'y', description: 'run without asking' }),
  };
  static override examples = ['<%= config.bin %> cluster destroy pg-dev -y'];

  async run() {
    const ctx = await this.clusterContext();
    const rec = await ctx.clusters.get(this.args.name);
    const addresses = rec.spec.services.map((s) => `taskserv.${s.service}.${s.host}`);
    const result = await this.runClusterResources(ctx.runtime, `cluster destroy ${rec.name}`, [], {
      addresses,
      parallelism: this.flags.parallelism,
      rollback: false,
      autoApprove: this.flags['auto-approve'],
    });
    await ctx.clusters.remove(rec.name);
    if (!this.jsonEnabled()) this.log(`Cluster ${rec.name} destroyed.`);
    return { cluster: rec.name, run: result };
  }
}
