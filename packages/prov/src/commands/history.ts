import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { notFoundError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { ProvCommand } from '../cli/base.js';
import { effectiveStatus } from '../core/engine.js';
import type { RunRecord } from '../core/types.js';

export default class History extends ProvCommand<typeof History> {
  static override summary = 'Every run: what it planned, who ran it, when, and how it ended';
  static override args = { 'run-id': Args.string({ description: 'show one run with its tasks' }) };
  static override flags = { limit: Flags.integer({ description: 'runs to show', default: 20, min: 1 }) };
  static override aliases = ['state:history'];
  static override examples = ['<%= config.bin %> history', '<%= config.bin %> history 20261122-101500-a1b2c3 --json'];

  async run() {
    const store = await this.openStore();
    // A run whose process died shows as interrupted (with the command that continues it).
    const live = <R extends RunRecord>(r: R): R => ({ ...r, status: effectiveStatus(r) });
    try {
      if (this.args['run-id']) {
        const found = await store.getRun(this.args['run-id']);
        if (!found) throw notFoundError(`no run ${this.args['run-id']}`, { hint: 'see prov history' });
        const run = live(found);
        const tasks = await store.tasks(run.id);
        if (!this.jsonEnabled()) {
          this.log(
            `run ${run.id}: ${run.kind} ${run.status}, by ${run.who}@${run.host} (pid ${run.pid}), ${run.started_at} → ${run.finished_at ?? '-'}`,
          );
          if (run.error) this.log(`error: ${run.error}`);
          if (run.status === 'interrupted' || run.status === 'rollback_failed')
            this.log(`continue it with: prov resume ${run.id}`);
          this.log(
            renderTable(
              tasks.map((t) => ({
                seq: t.seq,
                address: t.address,
                action: t.action,
                status: t.status,
                attempts: t.attempts,
                error: t.error ?? '',
              })),
            ),
          );
        }
        return { run, tasks };
      }
      const runs = (await store.listRuns(this.flags.limit)).map(live);
      if (!this.jsonEnabled()) {
        if (runs.length === 0) this.log('no runs yet');
        else
          this.log(
            renderTable(
              runs.map((r) => ({
                run: r.id,
                kind: r.kind,
                status: r.status,
                who: `${r.who}@${r.host}`,
                started: r.started_at.replace('T', ' ').slice(0, 19),
                changes: `+${r.plan.summary.add} ~${r.plan.summary.change} -${r.plan.summary.destroy}`,
                error: r.error ? r.error.slice(0, 60) : '',
              })),
            ),
          );
      }
      return { runs: runs.map(({ plan, ...r }) => ({ ...r, plan_summary: plan.summary })) };
    } finally {
      await store.close();
    }
  }
}
