import * as Flags from '@oclif/core/flags';
import { AddCommand, bodyFlags, commonAddFlags, titleArg } from '../../cli/add.js';
import { DECISION_STATUSES } from '../../core/model.js';

export default class AddDecision extends AddCommand<typeof AddDecision> {
  static override summary = 'Add a decision record (ADR): context, decision, consequences';
  static override args = { title: titleArg() };
  static override flags = {
    context: Flags.string({ description: 'why a decision is needed' }),
    decision: Flags.string({ description: 'what was decided' }),
    consequences: Flags.string({ description: 'what follows from it' }),
    ...bodyFlags,
    ...commonAddFlags,
    status: Flags.string({ description: 'status', options: [...DECISION_STATUSES], default: 'proposed' }),
    supersedes: Flags.string({
      description: 'id of the decision this one replaces (its status becomes superseded)',
      helpValue: '<id>',
    }),
  };
  static override examples = [
    '<%= config.bin %> add decision "Choose Cilium over Calico for CNI" --context "Need eBPF" --decision "Cilium" --consequences "Kernel 4.9+" --status accepted',
    '<%= config.bin %> add decision "Move to PostgreSQL 16" --context ... --decision ... --consequences ... --supersedes move-to-postgresql-15-1a2b3c',
  ];

  async run() {
    const { title, context, decision, consequences } = await this.fill('decision', [
      { key: 'title', value: this.args.title, flag: 'a title', label: 'Title' },
      { key: 'context', value: this.flags.context, flag: '--context', label: 'Context (why a decision is needed)' },
      { key: 'decision', value: this.flags.decision, flag: '--decision', label: 'Decision (what was decided)' },
      {
        key: 'consequences',
        value: this.flags.consequences,
        flag: '--consequences',
        label: 'Consequences (what follows from it)',
      },
    ]);
    const body = this.readBody(this.flags.body, this.flags['body-file']);
    return this.create(
      {
        type: 'decision',
        title,
        fields: { context, decision, consequences, body },
        ...(this.flags.supersedes
          ? { relations: [{ type: 'supersedes', target: this.flags.supersedes, weight: 1 }] }
          : {}),
      },
      this.flags,
    );
  }
}
