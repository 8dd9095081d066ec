import * as Flags from '@oclif/core/flags';
import { AddCommand, bodyFlags, commonAddFlags, titleArg } from '../../cli/add.js';

export default class AddGuideline extends AddCommand<typeof AddGuideline> {
  static override summary = 'Add a guideline: a team or org standard';
  static override args = { title: titleArg() };
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
    const { title, body } = await this.fill('guideline', [
      { key: 'title', value: this.args.title, flag: 'a title', label: 'Title' },
      {
        key: 'body',
        value: this.readBody(this.flags.body, this.flags['body-file']),
        flag: '--body',
        label: 'The rule itself (--body-file for longer text)',
      },
    ]);
    return this.create(
      {
        type: 'guideline',
        title,
        fields: { body, rationale: this.flags.rationale, examples: this.flags.examples },
      },
      this.flags,
    );
  }
}
