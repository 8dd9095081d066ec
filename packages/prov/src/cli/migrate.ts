import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StratumError } from '@stratumiops/shared/errors';
import { hostTarget } from '../adapters/local.js';
import { openStateStore } from '../adapters/state/index.js';
import { type MigrationEvent, type MigrationRun, MigrationRuns, runMigration } from '../core/migrate.js';
import type { StateStore } from '../core/state.js';
import { Runtime, type RuntimeSettings, retryPolicy } from '../runtime.js';
import type { LoadedInfra, ProvCommand } from './base.js';
import { hostPrinter } from './render.js';

/** Runs or resumes a migration with progress lines; a run that did not succeed is an error carrying the run. */
export async function execMigration(
  cmd: ProvCommand,
  run: MigrationRun,
  from: LoadedInfra,
  to: LoadedInfra,
  store: StateStore,
  resume: boolean,
): Promise<MigrationRun> {
  const c = cmd as unknown as {
    runtimeSettings(): RuntimeSettings;
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
  if (!json) for (const w of run.warnings ?? []) log(`Warning: ${w}`);
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
