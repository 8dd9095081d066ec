import * as Args from '@oclif/core/args';
import { ProvCommand } from '../../cli/base.js';
import { effectiveMigrationStatus, MigrationRuns } from '../../core/migrate.js';

export default class MigrateStatus extends ProvCommand<typeof MigrateStatus> {
  static override summary = "Show a migration's steps and where it stands, or list the workspace's migrations";
  static override description =
    'A migration recorded as running whose process is gone shows as interrupted: continue it with prov migrate resume.';
  static override args = { id: Args.string({ description: 'migration id (prov migrate status lists them)' }) };
  static override examples = [
    '<%= config.bin %> migrate status',
    '<%= config.bin %> migrate status m20261207-101500-a1b2c3',
  ];

  async run() {
    const runs = MigrationRuns.forWorkspace();
    if (!this.args.id) {
      const list = runs.list().map((r) =>
        'unreadable' in r
          ? { id: r.id, status: 'unreadable' as const, error: r.unreadable }
          : {
              id: r.id,
              from: r.from,
              to: r.to,
              status: effectiveMigrationStatus(r),
              started_at: r.started_at,
              finished_at: r.finished_at,
              steps: r.plan.steps.length,
              done: r.done.length,
            },
      );
      if (!this.jsonEnabled()) {
        if (list.length === 0) this.log('No migrations in this workspace.');
        for (const r of list)
          this.log(
            'error' in r
              ? `${r.id}  unreadable journal: ${r.error}`
              : `${r.id}  ${r.from} → ${r.to}  ${r.status.replace('_', ' ')}  ${r.done}/${r.steps} steps  ${r.started_at}`,
          );
      }
      return { migrations: list };
    }
    const run = runs.get(this.args.id);
    const status = effectiveMigrationStatus(run);
    if (!this.jsonEnabled()) {
      this.log(`Migration ${run.id}: ${run.from} → ${run.to}: ${status.replace('_', ' ')}`);
      if (run.switched_at) this.log(`Switched to the target at ${run.switched_at}`);
      for (const s of run.plan.steps) {
        const r = run.steps[s.n];
        const st = r ? r.status.replace('_', ' ') : 'pending';
        this.log(
          `${String(s.n).padStart(3)}. ${st.padEnd(15)} [${s.phase}] ${s.title}${r?.error ? `\n       ${r.error}` : ''}`,
        );
      }
      for (const w of run.warnings ?? []) this.log(`Warning: ${w}`);
      if (run.error) this.log(`\nError: ${run.error}`);
    }
    return { ...run, status };
  }
}
