import * as Args from '@oclif/core/args';
import { clusterFlags } from '../../cli/cluster.js';
import { runTable, WorkflowCommand } from '../../cli/workflow.js';
import { assertResumable, executeWorkflow, rollbackWorkflow, WorkflowRuns } from '../../core/workflow.js';

export default class WorkflowResume extends WorkflowCommand<typeof WorkflowResume> {
  static override summary = 'Continue an interrupted workflow run from its checkpoints';
  static override description =
    'Completed steps are kept; a step that was running when prov died is not started again while it still runs on its host: resume waits for it and takes its result. A run that had failed and was rolling back finishes its rollback.';
  static override args = { id: Args.string({ description: 'run id', required: true }) };
  static override flags = { file: clusterFlags.file, 'accept-new-host-keys': clusterFlags['accept-new-host-keys'] };
  static override examples = ['<%= config.bin %> workflow resume 20261207-101500-a1b2c3'];

  async run() {
    const runs = WorkflowRuns.forWorkspace();
    const run = runs.get(this.args.id);
    assertResumable(run);
    const { runtime } = await this.clusterContext();
    try {
      const place = await this.place(runtime, {
        ...(run.cluster ? { cluster: run.cluster } : { servers: run.hosts }),
        params: run.params,
      });
      const stop = this.interruptible();
      try {
        const deps = await this.deps(runtime, place, stop.signal);
        const out = await this.underStateLock(
          run.id,
          `workflow ${run.workflow} resume`,
          () => (run.failed.length ? rollbackWorkflow(runs, run, deps) : executeWorkflow(runs, run, deps)),
          true,
        );
        if (!this.jsonEnabled() && out.status !== 'succeeded') this.log(runTable(out));
        return this.finishRun(out);
      } finally {
        stop.done();
      }
    } finally {
      await runtime.close();
    }
  }
}
