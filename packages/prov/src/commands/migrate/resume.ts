import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { conflictError } from '@stratumiops/shared/errors';
import { acceptNewHostKeysFlag, ProvCommand } from '../../cli/base.js';
import { execMigration } from '../../cli/migrate.js';
import { effectiveMigrationStatus, MigrationRuns, planMigration } from '../../core/migrate.js';

export default class MigrateResume extends ProvCommand<typeof MigrateResume> {
  static override summary = 'Continue a migration that was killed, interrupted, or failed after the switch';
  static override description =
    'Steps already done are not run again; the step that was running when the process died runs again (each is safe to repeat: a create or destroy continues its own engine run, a restore replaces what it restored). A run killed while undoing finishes the undo. The configs are read again and must still describe the same migration.';
  static override args = { id: Args.string({ description: 'migration id (prov migrate status)', required: true }) };
  static override flags = {
    'accept-new-host-keys': acceptNewHostKeysFlag,
    verbose: Flags.boolean({ char: 'v', description: "print the commands' output (host-prefixed) on stderr" }),
  };
  static override examples = ['<%= config.bin %> migrate resume m20261207-101500-a1b2c3'];

  async run() {
    const run = MigrationRuns.forWorkspace().get(this.args.id);
    const status = effectiveMigrationStatus(run);
    if (!['interrupted', 'failed', 'rollback_failed'].includes(status)) {
      throw conflictError(`migration ${run.id} is ${status.replace('_', ' ')}; nothing to resume`, {
        hint: status === 'running' ? `it is still running (pid ${run.pid})` : `see prov migrate status ${run.id}`,
      });
    }
    const from = await this.loadInfra(run.from);
    const to = await this.loadInfra(run.to);
    const again = planMigration(
      { path: run.from, resources: from.desired.resources },
      { path: run.to, resources: to.desired.resources },
    );
    const actions = (steps: { action: unknown }[]) => JSON.stringify(steps.map((s) => s.action));
    if (
      actions(again.steps.filter((s) => s.action.type !== 'certs' && s.action.type !== 'secrets')) !==
      actions(run.plan.steps.filter((s) => s.action.type !== 'certs' && s.action.type !== 'secrets'))
    ) {
      throw conflictError(`the configs ${run.from} and ${run.to} changed since migration ${run.id} started`, {
        hint: 'put them back as they were to resume it',
      });
    }
    const store = await this.openStore();
    try {
      return await execMigration(this, run, from, to, store, true);
    } finally {
      await store.close();
    }
  }
}
