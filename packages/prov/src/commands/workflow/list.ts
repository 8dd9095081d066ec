import * as Flags from '@oclif/core/flags';
import { renderTable } from '@stratumiops/shared/output';
import { WorkflowCommand } from '../../cli/workflow.js';
import { effectiveWorkflowStatus, listWorkflows, WorkflowRuns } from '../../core/workflow.js';

export default class WorkflowList extends WorkflowCommand<typeof WorkflowList> {
  static override summary = 'List workflows, and the runs of this workspace';
  static override description =
    'Workflows are Nickel files in templates/workflows (plus prov.toml clusters.workflow_dirs): functions of the cluster or hosts they run on, returning a DAG of steps.';
  static override aliases = ['workflow:ls'];
  static override flags = {
    runs: Flags.integer({ description: 'also list this many recent runs', default: 10, min: 0 }),
  };
  static override examples = ['<%= config.bin %> workflow list', '<%= config.bin %> workflow list --runs 50 --json'];

  async run() {
    const workflows = listWorkflows(this.workflowDirs()).map((w) => ({ name: w.name, description: w.description }));
    const runs = WorkflowRuns.forWorkspace()
      .list()
      .slice(0, this.flags.runs)
      .map((r) => ({
        id: r.id,
        workflow: r.workflow,
        on: r.cluster ?? r.hosts.join(','),
        status: effectiveWorkflowStatus(r),
        started_at: r.started_at,
      }));
    if (!this.jsonEnabled()) {
      this.log(renderTable(workflows));
      if (runs.length) this.log(`\nRuns:\n${renderTable(runs)}`);
    }
    return { workflows, runs };
  }
}
