import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { acceptNewHostKeysFlag, type LoadedInfra, ProvCommand } from '../../cli/base.js';
import type { MigrationEvent, MigrationPlan, MigrationRun } from '../../core/migrate.js';

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
    const { assertRunnable, migrationDocument, newMigrationRun, renderMigration } = await import(
      '../../core/migrate.js'
    );
    const { loadPriceTables } = await import('../../core/estimate.js');
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
        const { confirm } = await import('../../cli/flow.js');
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

/** Runs or resumes a migration with progress lines; a run that did not succeed is an error carrying the run. */
export async function execMigration(
  cmd: ProvCommand,
  run: MigrationRun,
  from: LoadedInfra,
  to: LoadedInfra,
  store: import('../../core/state.js').StateStore,
  resume: boolean,
): Promise<MigrationRun> {
  const { MigrationRuns, runMigration } = await import('../../core/migrate.js');
  const { Runtime, retryPolicy } = await import('../../runtime.js');
  const { openStateStore } = await import('../../adapters/state/index.js');
  const { hostTarget } = await import('../../adapters/local.js');
  const { hostPrinter } = await import('../../cli/render.js');
  const c = cmd as unknown as {
    runtimeSettings(): import('../../runtime.js').RuntimeSettings;
    jsonEnabled(): boolean;
    log(s: string): void;
    flags: { verbose?: boolean };
  };
  const json = c.jsonEnabled();
  const settings = c.runtimeSettings();
  const source = new Runtime(settings, from.infra);
  const target = new Runtime(settings, to.infra);
  const runs = MigrationRuns.forWorkspace();
  const folder = dirname(runs.stagingPath(run.id));
  const fresh = !existsSync(folder);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const staging = await openStateStore(runs.stagingPath(run.id));
  const total = run.plan.steps.length;
  const line = (e: MigrationEvent) => {
    const at = `[${e.step.n}/${total}]`;
    switch (e.type) {
      case 'start':
        return `${at} ${e.step.title}${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''} ...`;
      case 'done':
        return `${at} done`;
      case 'retry':
        return `${at} ${e.error} — retrying`;
      case 'failed':
        return `${at} failed: ${e.error}`;
      case 'rollback-start':
        return `${at} undo: ${e.step.undo.title} ...`;
      case 'rolled-back':
        return `${at} undone`;
      case 'rollback-failed':
        return `${at} undo failed: ${e.error}`;
    }
  };
  const abort = new AbortController();
  const onSigint = () => {
    if (!json)
      process.stderr.write('\nInterrupted: finishing the running step, then stopping (prov migrate resume).\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  if (!json) c.log(`\n${resume ? 'Resuming' : 'Running'} migration ${run.id}`);
  try {
    await runMigration(
      run,
      {
        store,
        staging,
        source: { provider: source.provider, desired: from.desired.resources },
        target: { provider: target.provider, desired: to.desired.resources },
        exec: await target.executor(),
        definition: (n) => target.definition(n),
        host: (n, ssh) => hostTarget(n, ssh),
        retry: retryPolicy(settings.apply),
        runs,
        ...(json ? {} : { onEvent: (e: MigrationEvent) => c.log(line(e)) }),
        ...(c.flags.verbose && !json ? { output: hostPrinter(process.stderr) } : {}),
        signal: abort.signal,
      },
      resume,
    );
  } catch (e) {
    // Refused before it started (the state is locked, an apply was left unfinished): leave no trace.
    if (fresh && !existsSync(join(folder, 'run.json'))) {
      await staging.close();
      rmSync(folder, { recursive: true, force: true });
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    await staging.close().catch(() => {});
    await source.close();
    await target.close();
  }
  return report(run, json, (s) => c.log(s));
}

function report(run: MigrationRun, json: boolean, log: (s: string) => void): MigrationRun {
  const words: Record<string, string> = {
    succeeded: `Migration ${run.id} complete: ${run.to} is live and recorded in state; the source is destroyed.`,
    rolled_back: `Migration ${run.id} failed and was rolled back: the target is gone, the source serves as before.`,
    rollback_failed: `Migration ${run.id} failed and its rollback failed too: prov migrate resume ${run.id} finishes the undo.`,
    failed: `Migration ${run.id} switched to the target but did not finish: prov migrate resume ${run.id}.`,
    interrupted: `Migration ${run.id} interrupted: continue with prov migrate resume ${run.id}.`,
  };
  if (!json) log(`\n${words[run.status] ?? run.status}`);
  if (run.status === 'succeeded') return run;
  const failed = Object.entries(run.steps).filter(([, s]) => s.status === 'failed');
  throw new StratumError(
    run.error_code === 'unavailable' ? 'unavailable' : 'failure',
    `migration ${run.status}: ${run.error ?? 'stopped'}`,
    {
      details: run as unknown as Record<string, unknown>,
      hint:
        run.status === 'rolled_back'
          ? `see prov migrate status ${run.id}${failed.length ? ` (step ${failed.map(([n]) => n).join(', ')})` : ''}`
          : `prov migrate resume ${run.id}`,
    },
  );
}
