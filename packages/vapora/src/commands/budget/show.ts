import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { centsOf, pct, VaporaCommand } from '../../cli/base.js';
import { ROLES } from '../../core/roles.js';

export default class BudgetShow extends VaporaCommand<typeof BudgetShow> {
  static override summary = 'Show budgets and spending per role (this month and ISO week), in cents';
  static override description =
    "held: reserved by calls in flight. unsettled: charged in full for calls whose process died before it could record the real cost (part of spent; 'vapora costs reconcile' enters the provider's figure).";
  static override args = { role: Args.string({ description: 'only this role', options: [...ROLES] }) };
  static override flags = { all: Flags.boolean({ description: 'also roles without a limit' }) };
  static override examples = ['<%= config.bin %> budget show', '<%= config.bin %> budget show security --json'];

  async run() {
    const api = await this.api();
    const all = await api.budgets(this.args.role);
    const shown =
      this.args.role || this.flags.all
        ? all
        : all.filter((b) => b.month.limit_cents !== null || b.week.limit_cents !== null);
    const unsettled = shown.some((b) => b.month.unsettled_cents > 0);
    this.table(
      shown.map((b) => ({
        role: b.role,
        state: b.state,
        month: b.month.key,
        'spent ¢': centsOf(b.month.spent_cents),
        ...(unsettled ? { 'unsettled ¢': centsOf(b.month.unsettled_cents) } : {}),
        'held ¢': centsOf(b.month.reserved_cents),
        'limit ¢': centsOf(b.month.limit_cents),
        week: b.week.key,
        'w spent ¢': centsOf(b.week.spent_cents),
        'w limit ¢': centsOf(b.week.limit_cents),
        used: b.ratio === null ? '∞' : pct(b.ratio),
        'at 100%': b.on_exceeded,
      })),
      undefined,
      'no budgets set (vapora budget set <role> --monthly <cents>)',
    );
    if (unsettled) this.log("unsettled: charged in full after a crash; see 'vapora costs reconcile'");
    return { budgets: shown };
  }
}
