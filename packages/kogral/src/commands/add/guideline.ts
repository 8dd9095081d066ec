import { Args, Flags } from '@oclif/core';
import { AddCommand, bodyFlags, commonAddFlags } from '../../cli/add.js';

export default class AddGuideline extends AddCommand<typeof AddGuideline> {
  static override summary = 'Add a guideline: a team or org standard';
  static override args = { title: Args.string({ description: 'title', required: true }) };
  static override flags = {
    ...bodyFlags,
    rationale: Flags.string({ description: 'why the guideline exists' }),
    examples: Flags.string({ description: 'examples (markdown)' }),
    ...commonAddFlags,
  };
  static override examples = [
    '<%= config.bin %> add guideline "Kubernetes deployments set resource limits" --body "Every container sets requests and limits." --tags kubernetes,deployment',
  ];

  async run() {
    const body = this.readBody(this.flags.body, this.flags['body-file']);
    if (body === undefined)
      this.requireFields('guideline', [{ flag: '--body', what: 'the rule itself (or --body-file)' }]);
    return this.create(
      {
        type: 'guideline',
        title: this.args.title,
        fields: { body, rationale: this.flags.rationale, examples: this.flags.examples },
      },
      this.flags,
    );
  }
}
