import { Args, Flags } from '@oclif/core';
import { cents, pct, VaporaCommand } from '../../cli/base.js';
import { ROLES } from '../../core/roles.js';

export default class BudgetShow extends VaporaCommand<typeof BudgetShow> {
  static override summary = 'Show budgets and spending per role (this month and ISO week)';
  static override args = { role: Args.string({ description: 'only this role', options: [...ROLES] }) };
  static override flags = { all: Flags.boolean({ description: 'also roles without a limit' }) };
  static override examples = ['<%= config.bin %> budget show', '<%= config.bin %> budget show security --json'];

  async run() {
    const { service } = await this.runtime();
    const all = await service.budgets(this.args.role);
    const shown =
      this.args.role || this.flags.all ? all : all.filter((b) => b.month.limit !== null || b.week.limit !== null);
    this.table(
      shown.map((b) => ({
        role: b.role,
        state: b.state,
        month: b.month.key,
        'spent ¢': cents(b.month.spent),
        'held ¢': cents(b.month.reserved),
        'limit ¢': cents(b.month.limit),
        week: b.week.key,
        'w spent ¢': cents(b.week.spent),
        'w limit ¢': cents(b.week.limit),
        used: pct(b.ratio),
        'at 100%': b.onExceeded,
      })),
      undefined,
      'no budgets set (vapora budget set <role> --monthly <cents>)',
    );
    return { budgets: shown };
  }
}
