import { Args, Flags } from '@oclif/core';
import { VaporaCommand } from '../cli/base.js';

export default class Approve extends VaporaCommand<typeof Approve> {
  static override summary = 'Approve work that waits for a decision (it runs now)';
  static override description =
    'The reference is an approval id, a task id, or <run>/<step> for a pipeline gate. The decision is kept with who made it and why, and published on vapora.approvals.response.';
  static override args = { ref: Args.string({ description: 'approval id, task id or <run>/<step>', required: true }) };
  static override flags = {
    reason: Flags.string({ description: 'why, kept with the decision', aliases: ['comment'] }),
  };
  static override examples = [
    '<%= config.bin %> approve t-4k9x2m1p --reason "change window ok"',
    '<%= config.bin %> approve r-1a2b3c4d/deploy',
  ];

  async run() {
    const a = await (await this.api()).approve(this.args.ref, this.flags.reason ? { reason: this.flags.reason } : {});
    this.log(`approved ${a.id}: ${a.action}`);
    return a;
  }
}
