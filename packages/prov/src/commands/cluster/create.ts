import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';
import { assertClusterName, findTemplate, parseSettings } from '../../core/cluster.js';

export default class ClusterCreate extends ClusterCommand<typeof ClusterCreate> {
  static override summary = 'Create a cluster from a template on your servers';
  static override description =
    'Calls the template (a Nickel function of the members, version and settings), checks the result against schemas/cluster.ncl, then installs its services on the members in the template’s order as one run: checkpointed, and rolled back (every member uninstalled in reverse) if a step fails. Generated secrets go to svault when the workspace uses it (SVAULT_TOKEN, and SVAULT_ADDR or prov vault init): the run then holds only references and an interrupted create continues with prov resume. Without svault they go only to the members.';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = {
    ...clusterFlags,
    template: Flags.string({
      description: 'db-cluster, k8s-ha, k8s-dev, or a folder with template.ncl',
      required: true,
    }),
    servers: Flags.string({
      description: 'member hosts, in order (the first bootstraps)',
      required: true,
      delimiter: ',',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name,...>',
    }),
    version: Flags.string({ description: 'main version (PostgreSQL major, Kubernetes)' }),
    set: Flags.string({
      description: 'a template setting, key=value (repeatable), e.g. init=none, port_stride=10',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    parallelism: Flags.integer({ description: 'hosts at the same time', default: 10, min: 1 }),
    'no-rollback': Flags.boolean({ description: 'on failure, keep what completed' }),
    'dry-run': Flags.boolean({ description: 'print what the template makes and change nothing' }),
    'auto-approve': Flags.boolean({ char: 'y', description: 'run without asking' }),
  };
  static override examples = [
    '<%= config.bin %> cluster create pg-prod --template db-cluster --servers db-1,db-2,db-3 -y',
    '<%= config.bin %> cluster create pg-dev --template db-cluster --servers db-1 --set init=none --dry-run',
    '<%= config.bin %> cluster create k8s-prod --template k8s-ha --servers cp-1,cp-2,cp-3,w-1 --set control_planes=3',
  ];

  async run() {
    const name = this.args.name;
    assertClusterName(name);
    const template = findTemplate(this.flags.template, this.templateDirs());
    const ctx = await this.clusterContext();
    const r = await this.createCluster(ctx, {
      name,
      template,
      servers: this.flags.servers,
      ...(this.flags.version ? { version: this.flags.version } : {}),
      settings: parseSettings(this.flags.set),
      parallelism: this.flags.parallelism,
      rollback: !this.flags['no-rollback'],
      autoApprove: this.flags['auto-approve'],
      dryRun: this.flags['dry-run'],
    });
    if ('dry_run' in r) return r;
    if (!this.jsonEnabled())
      this.log(`Cluster ${name} created (${r.spec.description}). See: prov cluster show ${name}`);
    return { cluster: name, spec: r.spec, run: r.run };
  }
}
