import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { centsOf, VaporaCommand } from '../../cli/base.js';

export default class CostsReconcile extends VaporaCommand<typeof CostsReconcile> {
  static override summary = "List unsettled charges, or replace one with the provider's real figure";
  static override description =
    "A call whose process died (kill -9, crash, power loss) may have been billed by the provider, and vapora cannot know how much: its reservation is charged in full and marked unsettled, so a crash can make the budget over-count but never overspend. Look the call up in the provider's usage console (request id, time, model) and enter what it really cost; the budget moves by the difference.";
  static override args = { id: Args.string({ description: 'cost record id (without it: list the unsettled ones)' }) };
  static override flags = {
    'actual-cents': Flags.string({ description: "the provider's figure, in cents (e.g. 0.42)", helpValue: '<cents>' }),
  };
  static override examples = [
    '<%= config.bin %> costs reconcile',
    '<%= config.bin %> costs reconcile unsettled-5c0e… --actual-cents 0.42',
  ];

  async run() {
    const api = await this.api();
    if (!this.args.id) {
      const rows = await api.unsettledCosts();
      this.table(
        rows.map((r) => ({
          id: r.id,
          role: r.role,
          task: r.task_id ?? '-',
          target: r.provider ? `${r.provider}:${r.model}` : '-',
          'charged ¢': centsOf(r.cost_cents),
          at: new Date(r.created_at).toISOString().slice(0, 19).replace('T', ' '),
        })),
        undefined,
        'nothing unsettled',
      );
      return { unsettled: rows };
    }
    const raw = this.flags['actual-cents'];
    if (raw === undefined) throw usageError('--actual-cents is needed', { hint: "the provider's figure, e.g. 0.42" });
    const actual = Number(raw);
    if (!Number.isFinite(actual) || actual < 0 || raw.trim() === '')
      throw usageError(`--actual-cents '${raw}' is not an amount of cents`);
    const r = await api.reconcileCost(this.args.id, { actual_cents: actual });
    this.log(`${r.id}: ${centsOf(r.cost_cents)} ¢ (reconciled)`);
    return r;
  }
}
