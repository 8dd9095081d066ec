import { Args, Flags } from '@oclif/core';
import { AddCommand, bodyFlags, commonAddFlags } from '../../cli/add.js';

export default class AddPattern extends AddCommand<typeof AddPattern> {
  static override summary = 'Add a pattern: a reusable solution';
  static override args = { title: Args.string({ description: 'title', required: true }) };
  static override flags = {
    problem: Flags.string({ description: 'the problem it solves' }),
    solution: Flags.string({ description: 'the solution' }),
    consequences: Flags.string({ description: 'trade-offs' }),
    ...bodyFlags,
    ...commonAddFlags,
  };
  static override examples = [
    '<%= config.bin %> add pattern "Sidecar log shipper" --problem "Apps log to files" --solution "A fluent-bit sidecar tails them"',
  ];

  async run() {
    const body = this.readBody(this.flags.body, this.flags['body-file']);
    const { problem, solution } = this.flags;
    if (body === undefined && (!problem || !solution))
      this.requireFields('pattern', [
        ...(problem ? [] : [{ flag: '--problem', what: 'the problem it solves' }]),
        ...(solution ? [] : [{ flag: '--solution', what: 'the solution (or the whole text as --body)' }]),
      ]);
    return this.create(
      {
        type: 'pattern',
        title: this.args.title,
        fields: { body, problem, solution, consequences: this.flags.consequences },
      },
      this.flags,
    );
  }
}
