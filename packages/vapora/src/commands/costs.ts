import * as Flags from '@oclif/core/flags';
import { VaporaCommand } from '../cli/base.js';
import { roleFlag } from '../cli/flags.js';
import { PROVIDERS } from '../core/model.js';
import { parseSince } from '../core/periods.js';
import { COST_GROUPS } from '../core/spend.js';

export default class Costs extends VaporaCommand<typeof Costs> {
  static override summary = 'Report LLM costs: calls, tokens and cents';
  static override description = 'From the cost records (one per call attempt, failed ones at 0), grouped.';
  static override flags = {
    by: Flags.string({ description: 'group by', options: [...COST_GROUPS], default: 'provider' }),
    since: Flags.string({ description: 'from this date (YYYY-MM-DD) or this long ago, e.g. 7d', helpValue: '<when>' }),
    role: roleFlag('only this role'),
    provider: Flags.string({ description: 'only this provider', options: [...PROVIDERS] }),
  };
  static override examples = ['<%= config.bin %> costs', '<%= config.bin %> costs --by role --since 7d'];

  async run() {
    const service = await this.api();
    const f = this.flags;
    const costs = await service.costs({ by: f.by, since: parseSince(f.since), role: f.role, provider: f.provider });
    this.table(
      costs.map((c) => ({
        [f.by]: c.key,
        calls: c.calls,
        failed: c.failed_calls,
        'tokens in': c.input_tokens,
        'tokens out': c.output_tokens,
        cents: c.cost_cents.toFixed(4),
      })),
      undefined,
      'no LLM calls recorded',
    );
    return { by: f.by, costs };
  }
}
