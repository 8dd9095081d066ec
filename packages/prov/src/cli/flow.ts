import { createInterface } from 'node:readline/promises';
import { StratumError } from '@stratumiops/shared/errors';
import { assertInteractive, useColor } from '@stratumiops/shared/output';
import {
  type EngineEvent,
  executePlan,
  type LockedRun,
  loadResumable,
  type RunResult,
  summaryText,
  type UnfinishedRunPolicy,
  withRunLock,
} from '../core/engine.js';
import { hasChanges, renderPlan } from '../core/plan.js';
import type { StateStore } from '../core/state.js';
import type { DesiredResource, PlanDoc, RunKind } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import { retryPolicy } from '../runtime.js';
import { applyProgress, hostPrinter, runReport } from './render.js';

export interface FlowIO {
  json: boolean;
  log(s: string): void;
  /** --json-stream: one JSON object per line (the plan, each task event, the result), like `terraform apply -json`. */
  stream?(event: Record<string, unknown>): void;
}

/** The --json-stream writer: one object per line on stdout, each with its time. */
export function jsonLines(out: NodeJS.WritableStream = process.stdout): (e: Record<string, unknown>) => void {
  return (e) => out.write(`${JSON.stringify({ ...e, at: new Date().toISOString() })}\n`);
}

export async function confirm(question: string, flag: string): Promise<boolean> {
  assertInteractive('confirmation', flag);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const a = await rl.question(`${question} Only 'yes' will be accepted: `);
    return a.trim() === 'yes';
  } finally {
    rl.close();
  }
}

/** One locked, planned, executed and reported operation: what apply, destroy and service install/uninstall share. */
export interface Operation {
  /** The lock's operation name (shown to whoever finds the state locked), e.g. `apply`, `service install`. */
  lockName: string;
  /** How the result is reported; the recorded run kind follows the plan (a saved destroy plan is a destroy run). */
  report: RunKind;
  unfinished?: UnfinishedRunPolicy;
  parallelism: number;
  rollback: boolean;
  autoApprove: boolean;
  verbose: boolean;
  /** Under the lock: the plan to run and the desired resources it creates from (may resume runs first). */
  prepare(run: LockedRun): Promise<{ plan: PlanDoc; desired: DesiredResource[] }>;
}

/** Runs an operation under the state lock and reports it; closes the runtime and the store in every case. */
export async function runOperation(store: StateStore, runtime: Runtime, op: Operation, io: FlowIO) {
  try {
    return await withRunLock(store, op.lockName, op.unfinished ?? {}, async (run) => {
      if (run.abandoned.length && !io.json) io.log(`Abandoned unfinished run(s): ${run.abandoned.join(', ')}`);
      const { plan, desired } = await op.prepare(run);
      const r = await executeWithUi({
        store,
        runtime,
        plan,
        desired,
        kind: op.report === 'apply' && plan.operation === 'destroy' ? 'destroy' : op.report,
        runId: run.runId,
        parallelism: op.parallelism,
        rollback: op.rollback,
        autoApprove: op.autoApprove,
        verbose: op.verbose,
        io,
      });
      return finish(r, op.report, io);
    });
  } finally {
    await runtime.close();
    await store.close();
  }
}

export interface ExecuteInput {
  store: StateStore;
  runtime: Runtime;
  plan: PlanDoc;
  desired: DesiredResource[];
  kind: RunKind;
  runId: string;
  parallelism: number;
  rollback: boolean;
  autoApprove: boolean;
  verbose: boolean;
  io: FlowIO;
}

/** Shows the plan, asks (unless --auto-approve), runs it with live progress; SIGINT stops starting new tasks. */
export async function executeWithUi(x: ExecuteInput): Promise<RunResult | undefined> {
  const { io } = x;
  if (!io.json) io.log(renderPlan(x.plan, { color: useColor(process.stdout) }));
  if (!hasChanges(x.plan)) return undefined;
  if (!x.autoApprove && !io.json) {
    const what = x.kind === 'destroy' ? 'destroy these resources' : 'perform these actions';
    if (!(await confirm(`\nDo you want to ${what}?`, '--auto-approve')))
      throw new StratumError('failure', 'cancelled: nothing was changed');
  } else if (!x.autoApprove) {
    throw new StratumError('usage', 'applying needs approval and --json cannot ask', { hint: 'pass --auto-approve' });
  }
  const total = x.plan.changes.filter((c) => c.action !== 'noop' || c.gone).length;
  const ui = applyProgress(total, { verbose: x.verbose, json: io.json });
  io.stream?.({
    type: 'plan',
    operation: x.plan.operation,
    summary: x.plan.summary,
    changes: x.plan.changes
      .filter((c) => c.action !== 'noop' || c.gone)
      .map((c) => ({ address: c.address, action: c.action })),
  });
  const onEvent = (e: EngineEvent) => {
    ui.onEvent(e);
    io.stream?.({ ...e });
  };
  const abort = new AbortController();
  const onSigint = () => {
    if (!io.json) process.stderr.write('\nInterrupted: waiting for running tasks, then stopping (resume later).\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await executePlan(
      {
        store: x.store,
        provider: x.runtime.provider,
        retry: retryPolicy(x.runtime.s.apply),
        onEvent,
        ...(x.verbose && !io.json ? { output: hostPrinter(process.stderr) } : {}),
      },
      x.plan,
      new Map(x.desired.map((d) => [d.address, d])),
      { parallelism: x.parallelism, rollback: x.rollback, kind: x.kind, signal: abort.signal, runId: x.runId },
    );
  } finally {
    process.off('SIGINT', onSigint);
    ui.stop();
  }
}

/**
 * The exit code of a failed run: 7 when every failure was a host or API that could not be reached (refused,
 * unreachable, timed out), 5 when every one was refused access, else 1.
 */
function failureCode(r: RunResult): 'failure' | 'unavailable' | 'denied' {
  if (r.failed.length === 0 || r.status === 'interrupted') return 'failure';
  if (r.failed.every((f) => f.code === 'unavailable')) return 'unavailable';
  if (r.failed.every((f) => f.code === 'denied')) return 'denied';
  return 'failure';
}

/** The final report; a failed run becomes an error (exit 1, or 7/5, see failureCode) carrying the report for --json. */
export function finish(r: RunResult | undefined, kind: RunKind, io: FlowIO): RunResult | { status: 'no-changes' } {
  if (!r) {
    io.stream?.({ type: 'result', status: 'no-changes' });
    return { status: 'no-changes' };
  }
  io.stream?.({ type: 'result', ...r, summary: summaryText(r, kind) });
  if (!io.json) io.log(`\n${summaryText(r, kind)}`);
  if (r.status === 'succeeded') return r;
  const display = io.json ? undefined : runReport(r);
  throw new StratumError(
    failureCode(r),
    `${kind} ${r.status}: ${r.failed.map((f) => `${f.address}: ${f.error}`).join('; ') || 'stopped'}`,
    {
      details: r as unknown as Record<string, unknown>,
      ...(display ? { display } : {}),
      hint: [
        // What the failures themselves say to do (an unknown host key: --accept-new-host-keys), then the run.
        ...new Set(r.failed.map((f) => f.hint).filter((h): h is string => Boolean(h))),
        r.status === 'interrupted' ? `prov resume ${r.run_id}` : `see prov history ${r.run_id}`,
      ].join('; '),
    },
  );
}

/** Continues an interrupted or crashed run from its checkpoints. */
export async function resumeRun(
  store: StateStore,
  runtime: Runtime,
  runId: string,
  desired: DesiredResource[] | undefined,
  opts: { verbose: boolean; io: FlowIO; parallelism?: number },
): Promise<RunResult> {
  const { run, tasks } = await loadResumable(store, runId);
  const ui = applyProgress(run.plan.changes.length, { verbose: opts.verbose, json: opts.io.json });
  try {
    return await executePlan(
      { store, provider: runtime.provider, retry: retryPolicy(runtime.s.apply), onEvent: ui.onEvent },
      run.plan,
      new Map((desired ?? []).map((d) => [d.address, d])),
      { parallelism: opts.parallelism ?? run.options.parallelism, rollback: run.options.rollback, kind: run.kind },
      { run, tasks },
    );
  } finally {
    ui.stop();
  }
}
