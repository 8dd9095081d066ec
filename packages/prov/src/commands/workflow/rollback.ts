import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { conflictError } from '@stratumiops/shared/errors';
import { approve } from '../../cli/base.js';
import { clusterFlags } from '../../cli/cluster.js';
import { WorkflowCommand } from '../../cli/workflow.js';
import { effectiveWorkflowStatus, rollbackWorkflow, WorkflowRuns } from '../../core/workflow.js';

export default class WorkflowRollback extends WorkflowCommand<typeof WorkflowRollback> {
  static override summary = "Undo a finished workflow run's steps, in reverse order";
  static override description =
    'Each completed step runs its undo (a hardened sshd_config goes back byte for byte, an installed service is uninstalled). Steps without an undo (checks, waits, backups) are left as they are.';
  static override args = { id: Args.string({ description: 'run id', required: true }) };
  static override flags = {
    file: clusterFlags.file,
    'accept-new-host-keys': clusterFlags['accept-new-host-keys'],
    'auto-approve': Flags.boolean({ char: 'y', description: 'undo without asking' }),
  };
  static override examples = ['<%= config.bin %> workflow rollback 20261207-101500-a1b2c3 -y'];

  async run() {
    const runs = WorkflowRuns.forWorkspace();
    const run = runs.get(this.args.id);
    const status = effectiveWorkflowStatus(run);
    if (status === 'running')
      throw conflictError(`workflow run ${run.id} is still running`, { hint: `prov workflow status ${run.id}` });
    if (run.done.length === 0)
      throw conflictError(`workflow run ${run.id} has nothing to undo (${status.replace('_', ' ')})`);
    await approve(
      `Undo ${run.done.length} step(s) of ${run.workflow} run ${run.id}?`,
      this.flags['auto-approve'],
      this.jsonEnabled(),
    );
    const { runtime } = await this.clusterContext();
    try {
      const place = await this.place(runtime, {
        ...(run.cluster ? { cluster: run.cluster } : { servers: run.hosts }),
        params: run.params,
      });
      const deps = await this.deps(runtime, place);
      const out = await this.underStateLock(
        run.id,
        `workflow ${run.workflow} rollback`,
        () => rollbackWorkflow(runs, run, deps),
        true,
      );
      return this.finishRun(out);
    } finally {
      await runtime.close();
    }
  }
}
