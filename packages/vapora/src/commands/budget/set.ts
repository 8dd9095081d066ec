import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { centsOf, pct, VaporaCommand } from '../../cli/base.js';
import { ON_EXCEEDED } from '../../core/model.js';
import { ROLES } from '../../core/roles.js';

export default class BudgetSet extends VaporaCommand<typeof BudgetSet> {
  static override summary = "Set a role's monthly and weekly budget (cents)";
  static override description =
    'Limits are in cents and stored (they win over [budgets.<role>] in vapora.toml). At 80% the first fallback is used; at 100% the role downgrades to the cheapest fallback that fits, is blocked, or needs an approval (--on-exceeded).';
  static override args = { role: Args.string({ description: 'role', options: [...ROLES], required: true }) };
  static override flags = {
    monthly: Flags.integer({ description: 'monthly limit in cents', min: 0 }),
    weekly: Flags.integer({ description: 'weekly limit in cents', min: 0 }),
    'no-monthly': Flags.boolean({ description: 'remove the monthly limit' }),
    'no-weekly': Flags.boolean({ description: 'remove the weekly limit' }),
    'on-exceeded': Flags.string({ description: 'what happens at 100%', options: [...ON_EXCEEDED] }),
  };
  static override examples = ['<%= config.bin %> budget set security --monthly 5000 --weekly 1500'];

  async run() {
    const f = this.flags;
    if (f.monthly === undefined && f.weekly === undefined && !f['no-monthly'] && !f['no-weekly'] && !f['on-exceeded']) {
      throw usageError('nothing to set', { hint: 'pass --monthly, --weekly or --on-exceeded' });
    }
    const api = await this.api();
    const s = await api.setBudget(this.args.role, {
      ...(f.monthly !== undefined ? { monthly: f.monthly } : f['no-monthly'] ? { monthly: null } : {}),
      ...(f.weekly !== undefined ? { weekly: f.weekly } : f['no-weekly'] ? { weekly: null } : {}),
      ...(f['on-exceeded'] ? { on_exceeded: f['on-exceeded'] } : {}),
    });
    this.log(
      `${s.role}: monthly ${centsOf(s.month.limit_cents)} ¢, weekly ${centsOf(s.week.limit_cents)} ¢, at 100% ${s.on_exceeded}; now ${s.state} (${s.ratio === null ? '∞' : pct(s.ratio)})`,
    );
    return s;
  }
}
