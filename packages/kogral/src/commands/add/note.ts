import { AddCommand, bodyFlags, commonAddFlags, titleArg } from '../../cli/add.js';

export default class AddNote extends AddCommand<typeof AddNote> {
  static override summary = 'Add a note';
  static override args = { title: titleArg() };
  static override flags = { ...bodyFlags, ...commonAddFlags };
  static override examples = [
    '<%= config.bin %> add note "Nginx 502 troubleshooting" --tags nginx,runbook --body-file notes.md',
    '<%= config.bin %> add note "Meeting notes" --body - < notes.md',
  ];

  async run() {
    const v = await this.fill('note', [
      { key: 'title', value: this.args.title, flag: 'a title', label: 'Title' },
      {
        key: 'body',
        value: this.readBody(this.flags.body, this.flags['body-file']),
        flag: '--body',
        label: 'Text (markdown; --body-file for longer text)',
      },
    ]);
    return this.create({ type: 'note', title: v.title, fields: { body: v.body } }, this.flags);
  }
}
