import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { acceptNewHostKeysFlag, ProvCommand } from '../../cli/base.js';
import { confirm } from '../../cli/flow.js';
import { execMigration } from '../../cli/migrate.js';
import { loadPriceTables } from '../../core/estimate.js';
import {
  assertRunnable,
  type MigrationPlan,
  migrationDocument,
  newMigrationRun,
  renderMigration,
} from '../../core/migrate.js';

export default class MigrateApply extends ProvCommand<typeof MigrateApply> {
  static override summary = 'Run a migration: create the target, move the data, switch, destroy the source';
  static override description =
    "Runs the steps of prov migrate plan (from the two configs, or a plan saved with migrate plan -o) through prov's orchestrator, one at a time, each retried on transient failures and journalled in .prov/migrations/<id>. The target's resources are created through their provider and recorded in the migration's own state; PostgreSQL data is dumped on the source (writes frozen) and restored on the target over SSH, then row counts and checksums of every table are compared. Until the switch, a failure undoes every step in reverse: the target is destroyed and the source, untouched, serves again. After the switch the source is destroyed and the target enters the workspace state; a failure there is retried by prov migrate resume. The state lock is held for the whole run. A killed run continues with prov migrate resume <id>.";
  static override args = {
    current: Args.string({ description: 'current Nickel config, or a plan saved with prov migrate plan -o' }),
    target: Args.string({ description: 'target Nickel config (not with a saved plan)' }),
  };
  static override flags = {
    'auto-approve': Flags.boolean({ description: 'run without asking', char: 'y' }),
    'dry-run': Flags.boolean({ description: 'check both configs and show the steps; change nothing' }),
    'accept-new-host-keys': acceptNewHostKeysFlag,
    verbose: Flags.boolean({ char: 'v', description: "print the commands' output (host-prefixed) on stderr" }),
  };
  static override examples = [
    '<%= config.bin %> migrate apply aws.ncl upcloud.ncl --dry-run',
    '<%= config.bin %> migrate apply aws.ncl upcloud.ncl -y',
    '<%= config.bin %> migrate apply migration.json -y --json',
  ];

  async run() {
    if (!this.args.current) throw usageError('give the current and target configs, or a saved migration plan');
    let saved: MigrationPlan | undefined;
    let fromPath = this.args.current;
    let toPath = this.args.target;
    if (fromPath.endsWith('.json')) {
      if (toPath) throw usageError('a saved plan names its configs: give only the plan');
      try {
        saved = JSON.parse(readFileSync(fromPath, 'utf8')) as MigrationPlan;
      } catch (e) {
        throw usageError(`cannot read the plan ${fromPath}: ${(e as Error).message}`);
      }
      if (saved.format !== 'prov-migration/1') throw usageError(`${fromPath} is not a prov migration plan`);
      fromPath = saved.from;
      toPath = saved.to;
    }
    if (!toPath) throw usageError('give the target config too', { hint: 'prov migrate apply current.ncl target.ncl' });
    const from = await this.loadInfra(fromPath);
    const to = await this.loadInfra(toPath);
    const store = await this.openStore();
    let plan: MigrationPlan;
    try {
      plan = await migrationDocument(from, to, { store, tables: loadPriceTables(['.prov/prices']) });
    } catch (e) {
      await store.close();
      throw e;
    }
    if (saved) assertSamePlan(saved, plan);
    const json = this.jsonEnabled();
    try {
      if (plan.steps.length === 0) {
        if (!json) this.log(renderMigration(plan));
        return { status: 'no-changes', plan };
      }
      assertRunnable(plan);
      if (this.flags['dry-run']) {
        if (!json) this.log(`${renderMigration(plan)}\n\nDry run: nothing was changed.`);
        return { dry_run: true, plan };
      }
      if (!json) this.log(renderMigration(plan));
      if (!this.flags['auto-approve']) {
        if (json) throw usageError('running a migration needs approval and --json cannot ask', { hint: 'pass -y' });
        if (!(await confirm('\nRun this migration?', '--auto-approve')))
          throw new StratumError('failure', 'cancelled: nothing was changed');
      }
      const run = newMigrationRun(plan);
      return await execMigration(this, run, from, to, store, false);
    } finally {
      await store.close();
    }
  }
}

/** A saved plan still describes what the configs ask for now. */
function assertSamePlan(saved: MigrationPlan, now: MigrationPlan) {
  const shape = (p: MigrationPlan) => JSON.stringify(p.steps.map((s) => [s.n, s.phase, s.title]));
  if (shape(saved) !== shape(now)) {
    throw new StratumError('conflict', 'the configs changed since the migration plan was made', {
      hint: `run prov migrate plan ${now.from} ${now.to} again`,
    });
  }
}
