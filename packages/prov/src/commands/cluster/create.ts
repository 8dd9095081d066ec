import { Args, Flags } from '@oclif/core';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';
import {
  assertClusterName,
  type ClusterRecord,
  clusterResources,
  clusterSecrets,
  evaluateTemplate,
  findTemplate,
  membersOf,
  parseSettings,
  secretVault,
} from '../../core/cluster.js';
import { engineFor } from '../../core/nickel.js';

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
    const settings = parseSettings(this.flags.set);
    const ctx = await this.clusterContext();
    await ctx.clusters.assertAbsent(name);
    const targets = await ctx.runtime.targets(this.flags.servers);
    const params = {
      name,
      members: membersOf(targets),
      ...(this.flags.version ? { version: this.flags.version } : {}),
      settings,
    };
    const spec = await evaluateTemplate(await engineFor(this.nickel), template, params, this.importPaths([]));
    if (this.flags['dry-run']) {
      await ctx.runtime.close();
      if (!this.jsonEnabled()) {
        this.log(`${spec.name}: ${spec.description}`);
        for (const s of spec.services)
          this.log(`  ${s.service} on ${s.host}${s.depends_on.length ? ` (after ${s.depends_on.join(', ')})` : ''}`);
      }
      return { dry_run: true, spec };
    }
    const hosts = Object.fromEntries(targets.map((t) => [t.name, t]));
    const vault = await secretVault();
    if (!vault && !this.jsonEnabled() && spec.kind !== 'generic')
      this.warn(
        'no svault for the generated secrets (SVAULT_TOKEN, and SVAULT_ADDR or prov vault init): they live only in this process, so an interrupted create cannot be resumed',
      );
    const secrets = await clusterSecrets(spec, vault);
    const desired = clusterResources(spec, hosts, secrets);
    const now = new Date().toISOString();
    const rec: ClusterRecord = {
      name,
      template: template.name,
      ...(this.flags.version ? { version: this.flags.version } : {}),
      settings,
      spec,
      created_at: now,
      updated_at: now,
      former_members: [],
    };
    // Recorded first, as being created: a create that is interrupted (kill -9 included) and resumed with prov
    // resume is a cluster once all its services are in state. Patroni's passwords are read back from the members
    // when needed; a Kubernetes CA has no such home (with svault, what is kept is the references).
    await ctx.clusters.save({ ...rec, status: 'creating' });
    if (spec.kind === 'kubernetes') ctx.clusters.saveSecrets(name, secrets);
    let result: Awaited<ReturnType<typeof this.runClusterResources>>;
    try {
      result = await this.runClusterResources(ctx.runtime, `cluster create ${name}`, desired, {
        parallelism: this.flags.parallelism,
        rollback: !this.flags['no-rollback'],
        autoApprove: this.flags['auto-approve'],
      });
    } catch (e) {
      // Rolled back (or never started): no cluster. Interrupted, or kept with --no-rollback: still being created.
      const status = (e as { details?: { status?: string } }).details?.status;
      if (status !== 'interrupted' && !this.flags['no-rollback']) await ctx.clusters.remove(name).catch(() => {});
      throw e;
    }
    await ctx.clusters.save(rec);
    if (!this.jsonEnabled()) this.log(`Cluster ${name} created (${spec.description}). See: prov cluster show ${name}`);
    return { cluster: name, spec, run: result };
  }
}
