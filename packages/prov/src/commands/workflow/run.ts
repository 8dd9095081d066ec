import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { clusterFlags } from '../../cli/cluster.js';
import { runTable, WorkflowCommand } from '../../cli/workflow.js';
import { parseSettings } from '../../core/cluster.js';
import { executeWorkflow, WorkflowRuns } from '../../core/workflow.js';

export default class WorkflowRun extends WorkflowCommand<typeof WorkflowRun> {
  static override summary = 'Run a workflow on a cluster or on hosts';
  static override description =
    'The workflow’s steps run as a DAG (a step starts when the steps it depends on are done on every host), each checkpointed in .prov/workflows/<run>.json; failures are retried, and when a step still fails the completed steps are undone in reverse (unless --no-rollback). Scripts run on the hosts under a guard, so prov workflow resume after a crash never starts a step that is still running.';
  static override args = {
    workflow: Args.string({ description: 'backup, monitoring, security, or a workflow .ncl file', required: true }),
  };
  static override flags = {
    file: clusterFlags.file,
    'accept-new-host-keys': clusterFlags['accept-new-host-keys'],
    cluster: Flags.string({ description: 'a cluster of this workspace (prov cluster list)', helpValue: '<name>' }),
    servers: Flags.string({
      description: 'hosts, comma-separated (instead of --cluster)',
      delimiter: ',',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name,...>',
    }),
    set: Flags.string({
      description: 'a workflow parameter, key=value (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    'dry-run': Flags.boolean({ description: 'show the steps in order without running them' }),
    parallelism: Flags.integer({ description: 'steps run at the same time', default: 10, min: 1 }),
    'no-rollback': Flags.boolean({ description: 'on failure, keep what was completed' }),
  };
  static override examples = [
    '<%= config.bin %> workflow run backup --cluster pg-prod --set output=/srv/backups --set keep=14',
    '<%= config.bin %> workflow run monitoring --cluster pg-prod',
    '<%= config.bin %> workflow run security --servers web-1,web-2',
    '<%= config.bin %> workflow run ./deploy.ncl --servers web-1 --dry-run',
  ];

  async run() {
    const ctxRuntime = (await this.clusterContext()).runtime;
    try {
      const { def, place, tasks, run } = await this.prepareWorkflow(ctxRuntime, {
        workflow: this.args.workflow,
        cluster: this.flags.cluster,
        servers: this.flags.servers,
        params: parseSettings(this.flags.set),
        parallelism: this.flags.parallelism,
        rollback: !this.flags['no-rollback'],
      });
      const runs = WorkflowRuns.forWorkspace();
      if (this.flags['dry-run']) {
        if (!this.jsonEnabled()) {
          this.log(`${def.name}: ${def.description}`);
          for (const t of tasks) this.log(`  ${t.id} (${t.kind})${t.deps.length ? ` after ${t.deps.join(', ')}` : ''}`);
        }
        return { dry_run: true, workflow: def.name, tasks };
      }
      if (!this.jsonEnabled()) this.log(`Workflow ${def.name}, run ${run.id}: ${def.description}`);
      const stop = this.interruptible();
      try {
        const deps = await this.deps(ctxRuntime, place, stop.signal);
        const out = await this.underStateLock(run.id, `workflow ${def.name}`, () => executeWorkflow(runs, run, deps));
        if (!this.jsonEnabled() && out.status !== 'succeeded') this.log(runTable(out));
        return this.finishRun(out);
      } finally {
        stop.done();
      }
    } finally {
      await ctxRuntime.close();
    }
  }
}
