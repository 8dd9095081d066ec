import * as Flags from '@oclif/core/flags';
import { ago, VaporaCommand } from '../cli/base.js';

export default class Approvals extends VaporaCommand<typeof Approvals> {
  static override summary = 'What waits for a decision: the work, the role, what happens when approved, and its age';
  static override description =
    "DevOps and Security work ([approvals] roles in vapora.toml) waits here before it runs; so does a call past a budget whose policy is 'approval', and every pipeline step marked approval = true. Decide with vapora approve / vapora reject (not by the token that asked). Requests nobody decides within [approvals] timeout_s are rejected.";
  static override flags = { all: Flags.boolean({ description: 'also decided and expired requests' }) };
  static override examples = ['<%= config.bin %> approvals', '<%= config.bin %> approvals --all --json'];

  async run() {
    const approvals = await (await this.api()).listApprovals({ all: this.flags.all });
    this.table(
      approvals.map((a) => ({
        id: a.id,
        for: a.taskId ?? `${a.runId}/${a.stepId}`,
        kind: a.kind,
        role: a.role,
        action: a.action,
        ...(this.flags.all ? { status: a.status, by: a.decidedBy ?? '-', reason: a.reason ?? '-' } : {}),
        age: ago(a.requestedAt),
      })),
      undefined,
      'nothing waits for approval',
    );
    return { approvals };
  }
}
