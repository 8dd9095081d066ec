import { Args, Flags } from '@oclif/core';
import { VaporaCommand } from '../cli/base.js';

export default class Reject extends VaporaCommand<typeof Reject> {
  static override summary = 'Reject work that waits for a decision (the task fails; a pipeline rolls back)';
  static override description =
    'The reference is an approval id, a task id, or <run>/<step> for a pipeline gate. The decision is kept with who made it and why, and published on vapora.approvals.response.';
  static override args = { ref: Args.string({ description: 'approval id, task id or <run>/<step>', required: true }) };
  static override flags = {
    reason: Flags.string({ description: 'why, kept with the decision', aliases: ['comment'] }),
  };
  static override examples = [
    '<%= config.bin %> reject t-4k9x2m1p --reason "no rollback plan"',
    '<%= config.bin %> reject r-1a2b3c4d/deploy --reason "freeze"',
  ];

  async run() {
    const a = await (await this.api()).reject(this.args.ref, this.flags.reason ? { reason: this.flags.reason } : {});
    this.log(`rejected ${a.id}: ${a.action}`);
    return a;
  }
}
