import { Args } from '@oclif/core';
import { AddCommand, bodyFlags, commonAddFlags } from '../../cli/add.js';

export default class AddNote extends AddCommand<typeof AddNote> {
  static override summary = 'Add a note';
  static override args = { title: Args.string({ description: 'title', required: true }) };
  static override flags = { ...bodyFlags, ...commonAddFlags };
  static override examples = [
    '<%= config.bin %> add note "Nginx 502 troubleshooting" --tags nginx,runbook --body-file notes.md',
    '<%= config.bin %> add note "Meeting notes" --body - < notes.md',
  ];

  async run() {
    const body = this.readBody(this.flags.body, this.flags['body-file']);
    if (body === undefined)
      this.requireFields('note', [{ flag: '--body', what: 'the markdown text (or --body-file)' }]);
    return this.create({ type: 'note', title: this.args.title, fields: { body } }, this.flags);
  }
}
