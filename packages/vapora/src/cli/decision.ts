import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { VaporaCommand } from './base.js';

/** approve and reject: one command but for the decision. */
export abstract class DecisionCommand extends VaporaCommand<typeof DecisionCommand> {
  static override description =
    'The reference is an approval id, a task id, or <run>/<step> for a pipeline gate. The decision is kept with who made it and why, and published on vapora.approvals.response. The token that asked cannot decide.';
  static override args = {
    ref: Args.string({ description: 'approval id, task id or <run>/<step>', required: true }),
  };
  static override flags = {
    reason: Flags.string({ description: 'why, kept with the decision', aliases: ['comment'] }),
  };
  protected abstract readonly decision: 'approve' | 'reject';

  async run() {
    const api = await this.api();
    const input = this.flags.reason ? { reason: this.flags.reason } : {};
    const a =
      this.decision === 'approve' ? await api.approve(this.args.ref, input) : await api.reject(this.args.ref, input);
    this.log(`${this.decision === 'approve' ? 'approved' : 'rejected'} ${a.id}: ${a.action}`);
    return a;
  }
}
