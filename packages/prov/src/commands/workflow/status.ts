import * as Args from '@oclif/core/args';
import { runTable, timelineLine, WorkflowCommand } from '../../cli/workflow.js';
import { effectiveWorkflowStatus, WorkflowRuns } from '../../core/workflow.js';

export default class WorkflowStatus extends WorkflowCommand<typeof WorkflowStatus> {
  static override summary = "Show a workflow run: each step's status and the timeline";
  static override description =
    'A run recorded as running whose process is gone shows as interrupted: continue it with prov workflow resume.';
  static override args = { id: Args.string({ description: 'run id (prov workflow list)', required: true }) };
  static override examples = ['<%= config.bin %> workflow status 20261207-101500-a1b2c3'];

  async run() {
    const run = WorkflowRuns.forWorkspace().get(this.args.id);
    const status = effectiveWorkflowStatus(run);
    if (!this.jsonEnabled()) {
      this.log(
        `Workflow ${run.workflow} run ${run.id} on ${run.cluster ?? run.hosts.join(',')}: ${status.replace('_', ' ')}`,
      );
      this.log(runTable(run));
      this.log('\nTimeline:');
      for (const e of run.timeline) this.log(`  ${timelineLine(e)}`);
    }
    return { ...run, status };
  }
}
