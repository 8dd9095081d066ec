import * as Flags from '@oclif/core/flags';
import { AddCommand, bodyFlags, commonAddFlags, titleArg } from '../../cli/add.js';

export default class AddPattern extends AddCommand<typeof AddPattern> {
  static override summary = 'Add a pattern: a reusable solution';
  static override args = { title: titleArg() };
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
    // The whole text as --body, or a problem and its solution.
    const v = await this.fill<'title' | 'problem' | 'solution'>('pattern', [
      { key: 'title', value: this.args.title, flag: 'a title', label: 'Title' },
      ...(body === undefined
        ? ([
            { key: 'problem', value: this.flags.problem, flag: '--problem', label: 'Problem it solves' },
            { key: 'solution', value: this.flags.solution, flag: '--solution', label: 'Solution' },
          ] as const)
        : []),
    ]);
    const { problem = this.flags.problem, solution = this.flags.solution } = v as Partial<typeof v>;
    return this.create(
      {
        type: 'pattern',
        title: v.title,
        fields: { body, problem, solution, consequences: this.flags.consequences },
      },
      this.flags,
    );
  }
}
