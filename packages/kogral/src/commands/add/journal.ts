import * as Args from '@oclif/core/args';
import { AddCommand, bodyFlags, commonAddFlags } from '../../cli/add.js';
import { splitList } from '../../cli/base.js';

export default class AddJournal extends AddCommand<typeof AddJournal> {
  static override summary = "Add to a day's journal entry (one node per day, appended to)";
  static override args = { date: Args.string({ description: 'day, YYYY-MM-DD (default: today)' }) };
  static override flags = { ...bodyFlags, tag: commonAddFlags.tag };
  static override examples = [
    '<%= config.bin %> add journal --body "Rotated DB credentials after the incident"',
    '<%= config.bin %> add journal 2026-01-22 --body "Postmortem review"',
  ];

  async run() {
    const { body } = await this.fill('journal', [
      {
        key: 'body',
        value: this.readBody(this.flags.body, this.flags['body-file']),
        flag: '--body',
        label: 'Entry to append',
      },
    ]);
    const app = await this.app();
    const r = await app.kg.journal(this.args.date, body, splitList(this.flags.tag));
    return this.report(r, r.node.created === r.node.updated ? 'created' : 'updated');
  }
}
