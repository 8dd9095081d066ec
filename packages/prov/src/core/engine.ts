import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { conflictError, notFoundError, StratumError } from '@stratumiops/shared/errors';
import type { OutputSink } from './executor.js';
import { topoSort } from './graph.js';
import { type OrchEvent, type OrchTask, type RetryPolicy, runDag } from './orchestrator.js';
import { computePlan } from './plan.js';
import type { Provider, ProviderContext } from './provider.js';
import { maskSensitive } from './sensitive.js';
import { isStale, newRunId, type StateStore, whoami } from './state.js';
import type {
  Action,
  Attrs,
  DesiredResource,
  LockHandle,
  PlanDoc,
  PlannedChange,
  ResourceRecord,
  RunKind,
  RunRecord,
  RunStatus,
  StateChange,
  TaskRecord,
} from './types.js';

export type ProviderSource = (name: string) => Promise<Provider>;

export interface EngineEvent {
  type: 'start' | 'retry' | 'done' | 'failed' | 'rollback-start' | 'rolled-back' | 'rollback-failed';
  address: string;
  action: string;
  attempt?: number;
  waitMs?: number;
  error?: string;
}

export interface EngineDeps {
  store: StateStore;
  provider: ProviderSource;
  retry: RetryPolicy;
  onEvent?(e: EngineEvent): void;
  output?: OutputSink;
}

export interface RunOptions {
  parallelism: number;
  rollback: boolean;
  kind: RunKind;
  signal?: AbortSignal;
  runId?: string;
}

export interface RunResult {
  run_id: string;
  status: RunStatus;
  added: number;
  changed: number;
  destroyed: number;
  /** `code`: the failure's kind as an exit code name (unavailable: the host or API could not be reached). */
  failed: { address: string; error: string; details?: Record<string, unknown>; code?: string; hint?: string }[];
  rolled_back: string[];
  rollback_failed: { address: string; error: string }[];
  skipped: string[];
  done: string[];
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Observed attributes of every recorded resource (bounded parallelism); an unreachable provider is an error. */
export async function refreshState(
  records: ResourceRecord[],
  provider: ProviderSource,
  parallelism = 10,
): Promise<Map<string, Attrs | null>> {
  const out = new Map<string, Attrs | null>();
  let i = 0;
  const errors: string[] = [];
  const worker = async () => {
    while (i < records.length) {
      const rec = records[i++]!;
      try {
        const p = await provider(rec.provider);
        out.set(rec.address, await p.read(rec));
      } catch (e) {
        errors.push(`${rec.address}: ${errText(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, records.length) }, worker));
  if (errors.length > 0) {
    throw new StratumError('unavailable', `refresh failed for ${errors.length} resource(s): ${errors.join('; ')}`, {
      hint: 'fix access to the provider, or plan with --no-refresh to compare with recorded state only',
      details: { errors },
    });
  }
  return out;
}

export interface PlanRequest {
  desired: DesiredResource[];
  warnings: string[];
  config: { path: string; sha256: string } | null;
  operation: 'apply' | 'destroy';
  refresh: boolean;
  targets?: string[];
}

export async function makePlan(deps: Pick<EngineDeps, 'store' | 'provider'>, req: PlanRequest): Promise<PlanDoc> {
  // A cycle is a configuration error: report it before touching any provider.
  topoSort(
    req.desired.map((r) => ({ id: r.address, deps: r.deps })),
    { ignoreMissing: true },
  );
  const state = await deps.store.list();
  const meta = await deps.store.meta();
  const providers = new Map<string, Provider>();
  for (const name of new Set([...req.desired.map((r) => r.provider), ...state.map((r) => r.provider)])) {
    providers.set(name, await deps.provider(name));
  }
  const refreshed = req.refresh ? await refreshState(state, deps.provider) : undefined;
  return computePlan({
    desired: req.desired,
    state,
    ...(refreshed ? { refreshed } : {}),
    providers: { replaceOn: (p, kind) => providers.get(p)?.replaceOn(kind) ?? [] },
    operation: req.operation,
    ...(req.targets ? { targets: req.targets } : {}),
    meta,
    config: req.config,
    warnings: req.warnings,
  });
}

/** Takes the state lock; resume may take over the stale lock its own crashed run left. */
export function lockState(
  store: StateStore,
  operation: string,
  runId: string | null,
  takeoverRun?: string,
  takeoverStale = false,
): Promise<LockHandle> {
  // A stale lock (its process is gone from this host) may be taken over by resume of the run that left it,
  // or by any run when takeoverStale (apply --resume / --abandon).
  return store.lock({
    operation,
    runId,
    takeover: (l, stale) => stale && (takeoverStale || (takeoverRun !== undefined && l.run_id === takeoverRun)),
  });
}

/** What to do about runs a crash left unfinished when a new operation starts (default: refuse). */
export interface UnfinishedRunPolicy {
  /** Mark them abandoned and go on. */
  abandon?: boolean;
  /** Hand them to the operation to resume first. */
  resume?: boolean;
}

export interface LockedRun {
  /** The id the new run will be recorded under. */
  runId: string;
  /** Unfinished runs to resume first (policy resume). */
  resumable: string[];
  /** Unfinished runs just marked abandoned (policy abandon). */
  abandoned: string[];
}

/**
 * Runs one state-changing operation under the state lock: takes it (a stale lock only with abandon/resume),
 * applies the unfinished-run policy, runs `fn`, and always releases the lock.
 */
export async function withRunLock<T>(
  store: StateStore,
  operation: string,
  policy: UnfinishedRunPolicy,
  fn: (run: LockedRun) => Promise<T>,
): Promise<T> {
  const runId = newRunId();
  const lock = await lockState(store, operation, runId, undefined, Boolean(policy.resume || policy.abandon));
  try {
    const run: LockedRun = { runId, resumable: [], abandoned: [] };
    assertNoUnfinishedMigration();
    if (policy.abandon) run.abandoned = await abandonUnfinished(store);
    else if (policy.resume) run.resumable = (await store.unfinishedRuns()).map((r) => r.id);
    else await assertNoUnfinished(store);
    return await fn(run);
  } finally {
    await lock.release();
  }
}

/** `apply` refuses to start over a run a crash left half-finished. */
export async function assertNoUnfinished(store: StateStore): Promise<void> {
  const left = await store.unfinishedRuns();
  const r = left[0];
  if (!r) return;
  throw conflictError(`run ${r.id} (${r.kind} by ${r.who}, started ${r.started_at}) did not finish`, {
    hint: `continue it with 'prov resume ${r.id}' (or apply --resume), or drop it with 'prov apply --abandon'`,
    details: { run: r.id, status: r.status },
  });
}

/**
 * Nothing runs over a migration that did not finish (killed, or failed past the switch): its source may be frozen
 * and its target half-built. Its journal in the workspace says so whatever the state backend (a PostgreSQL lock
 * dies with the process that held it).
 */
export function assertNoUnfinishedMigration(dir = join(process.cwd(), '.prov', 'migrations')): void {
  if (!existsSync(dir)) return;
  for (const id of readdirSync(dir).sort()) {
    const f = join(dir, id, 'run.json');
    if (!existsSync(f)) continue;
    let status: string;
    try {
      status = String((JSON.parse(readFileSync(f, 'utf8')) as { status?: unknown }).status);
    } catch {
      throw conflictError(`the journal of migration ${id} is unreadable, so whether it finished is unknown`, {
        hint: `check ${f} (prov migrate status ${id}); remove the folder only if that migration is over`,
        details: { migration: id },
      });
    }
    if (status === 'succeeded' || status === 'rolled_back') continue;
    throw conflictError(`migration ${id} did not finish (${status.replace('_', ' ')})`, {
      hint: `finish it with 'prov migrate resume ${id}' (prov migrate status ${id} shows where it stands)`,
      details: { migration: id, status },
    });
  }
}

export async function abandonUnfinished(store: StateStore): Promise<string[]> {
  const left = await store.unfinishedRuns();
  for (const r of left) await store.finishRun(r.id, 'abandoned', { error: 'abandoned by a later apply' });
  return left.map((r) => r.id);
}

/** A refusal when a saved plan no longer matches state. */
export async function assertPlanCurrent(store: StateStore, plan: PlanDoc): Promise<void> {
  const meta = await store.meta();
  if (meta.lineage !== plan.state.lineage) {
    throw conflictError('the saved plan was made for a different state (lineage differs)', {
      hint: 'run prov plan again against this state',
    });
  }
  if (meta.serial !== plan.state.serial) {
    throw conflictError(`state changed since the plan was made (serial ${plan.state.serial} → ${meta.serial})`, {
      hint: 'run prov plan again and apply the new plan',
      details: { plan_serial: plan.state.serial, state_serial: meta.serial },
    });
  }
}

const now = () => new Date().toISOString();

function record(d: DesiredResource, outputs: Attrs): ResourceRecord {
  const { attrs, sensitive } = maskSensitive(d.attrs);
  return {
    address: d.address,
    kind: d.kind,
    name: d.name,
    provider: d.provider,
    attrs,
    outputs,
    deps: d.deps,
    sensitive,
    updated_at: now(),
  };
}

const asDesired = (r: ResourceRecord): DesiredResource => ({
  address: r.address,
  kind: r.kind,
  name: r.name,
  provider: r.provider,
  attrs: r.attrs,
  deps: r.deps,
});

/** What a task did: the resource before it and after it (null: none), as run() returned or a checkpoint kept. */
interface TaskResult {
  before: ResourceRecord | null;
  after: ResourceRecord | null;
}

/** What an action works with: its planned change, the change's provider, and the real desired values. */
interface ActionEnv {
  change: PlannedChange;
  provider: Provider;
  ctx: ProviderContext;
  /** The desired resource with its real (unmasked) values; throws when there is none. */
  desired(): DesiredResource;
}

/**
 * One kind of planned change: `run` makes it and returns the resource as it now is (null: no longer in state);
 * `undo` reverses a completed run and returns the state change to record with it (null: none). The engine
 * wraps both in checkpoints; the orchestrator decides when each is called.
 */
interface ChangeAction {
  run(x: ActionEnv, progress: (change: StateChange) => Promise<void>): Promise<ResourceRecord | null>;
  undo(x: ActionEnv, r: TaskResult): Promise<StateChange>;
}

/** The undo of create, replace and delete: delete what the task made, then create again what was there. */
async function recreateBefore({ change, provider, ctx }: ActionEnv, r: TaskResult): Promise<StateChange> {
  if (r.after) await provider.delete(r.after, ctx);
  if (!r.before) return { remove: change.address };
  return { put: { ...r.before, outputs: await provider.create(asDesired(r.before), ctx), updated_at: now() } };
}

/** One action per kind of planned change (as OpenTofu has one graph node type per action). */
const changeActions: Record<Action, ChangeAction> = {
  create: {
    async run({ provider, ctx, desired }) {
      const d = desired();
      return record(d, await provider.create(d, ctx));
    },
    // A create of an object found gone has the old record as `before`: undo creates that again.
    undo: recreateBefore,
  },
  update: {
    async run({ change, provider, ctx, desired }) {
      const d = desired();
      return record(d, await provider.update(d, change.before!, ctx));
    },
    // In place, back to the old attributes: never delete + create.
    async undo({ provider, ctx }, r) {
      if (!r.before) return null;
      if (!r.after) return { put: r.before };
      return {
        put: { ...r.before, outputs: await provider.update(asDesired(r.before), r.after, ctx), updated_at: now() },
      };
    },
  },
  replace: {
    async run({ change, provider, ctx, desired }, progress) {
      const d = desired();
      const old = change.before!;
      await provider.delete(old, ctx);
      await progress({ remove: change.address });
      try {
        return record(d, await provider.create(d, ctx));
      } catch (e) {
        // Put the old object back before reporting, so the failed task leaves things as they were.
        await progress({ put: record(asDesired(old), await provider.create(asDesired(old), ctx)) });
        throw e;
      }
    },
    undo: recreateBefore,
  },
  delete: {
    async run({ change, provider, ctx }) {
      await provider.delete(change.before!, ctx);
      return null;
    },
    undo: recreateBefore,
  },
  // Only a noop whose object is gone runs: its record is dropped from state, and put back on undo.
  noop: {
    run: async () => null,
    undo: async (_x, r) => (r.before ? { put: r.before } : null),
  },
};

/** The desired value a change creates or updates to. */
function desiredFor(c: PlannedChange, desired: Map<string, DesiredResource>): DesiredResource {
  // Without the config (a service or cluster run being resumed) the plan's own copy serves, unless a secret
  // in it was stored only as its hash.
  const d =
    desired.get(c.address) ??
    (c.after && !JSON.stringify(c.after.attrs).includes('(sensitive sha256:') ? c.after : undefined);
  if (!d) throw new StratumError('failure', `no desired value for ${c.address} (was the config changed?)`);
  return d;
}

/**
 * Runs a plan: one task per change, in dependency order (deletes in reverse), checkpointed in state after each
 * task, rolled back in reverse order on failure unless rollback is off. `desired` has the real (unmasked) values.
 */
export async function executePlan(
  deps: EngineDeps,
  plan: PlanDoc,
  desired: Map<string, DesiredResource>,
  opts: RunOptions,
  resume?: { run: RunRecord; tasks: TaskRecord[] },
): Promise<RunResult> {
  const { store } = deps;
  const changes = plan.changes.filter((c) => c.action !== 'noop' || c.gone);
  const runId = resume?.run.id ?? opts.runId ?? newRunId();
  // Every provider the run will use reads its credentials first: a secret it cannot read fails the run
  // before anything changed, instead of at its first call after others' changes.
  for (const name of new Set(changes.map((c) => c.provider))) await (await deps.provider(name)).prepare?.();
  if (!resume) {
    await store.createRun({
      id: runId,
      kind: opts.kind,
      status: 'running',
      who: whoami(),
      host: hostname(),
      pid: process.pid,
      started_at: now(),
      finished_at: null,
      plan,
      options: { parallelism: opts.parallelism, rollback: opts.rollback },
      error: null,
      summary: null,
    });
  } else await store.setRunStatus(runId, 'running');

  // Outputs of everything recorded, updated as tasks finish: providers look up ids of dependencies here.
  const outputs = new Map<string, Attrs>();
  for (const r of await store.list()) outputs.set(r.address, r.outputs);
  let seq = resume ? Math.max(0, ...resume.tasks.map((t) => t.seq)) : 0;
  const ctx: ProviderContext & { outputsOf(a: string): Attrs | undefined } = {
    ...(deps.output ? { output: deps.output } : {}),
    cleanupOnFailure: opts.rollback,
    outputsOf: (a) => outputs.get(a),
  };
  const checkpoint = async (
    c: PlannedChange,
    status: TaskRecord['status'],
    patch: Partial<TaskRecord>,
    change: StateChange,
  ) => {
    const task: TaskRecord = {
      run_id: runId,
      address: c.address,
      action: c.action,
      status,
      attempts: patch.attempts ?? 1,
      before: patch.before !== undefined ? patch.before : c.before,
      after: patch.after ?? null,
      error: patch.error ?? null,
      seq: patch.seq ?? ++seq,
      updated_at: now(),
    };
    await store.checkpoint(task, change);
    if (change && 'put' in change) outputs.set(change.put.address, change.put.outputs);
    else if (change) outputs.delete(change.remove);
  };

  const byAddress = new Map(changes.map((c) => [c.address, c]));
  const deleting = new Set(changes.filter((c) => c.action === 'delete').map((c) => c.address));
  // For deletes, what depends on each address (deleted first).
  const dependents = new Map<string, string[]>();
  for (const o of changes) {
    if (!deleting.has(o.address)) continue;
    for (const d of o.before?.deps ?? []) dependents.set(d, [...(dependents.get(d) ?? []), o.address]);
  }
  const inRun = new Set(changes.map((c) => c.address));
  const tasks = changes.map((c): OrchTask<TaskResult> => {
    const action = changeActions[c.action];
    const env = async (): Promise<ActionEnv> => ({
      change: c,
      provider: await deps.provider(c.provider),
      ctx,
      desired: () => desiredFor(c, desired),
    });
    return {
      id: c.address,
      deps:
        c.action === 'delete'
          ? (dependents.get(c.address) ?? [])
          : c.deps.filter((d) => inRun.has(d) && !deleting.has(d)),
      run: async (attempt) => {
        const x = await env();
        const taskSeq = ++seq;
        const note = (status: TaskRecord['status'], change: StateChange, patch: Partial<TaskRecord> = {}) =>
          checkpoint(c, status, { attempts: attempt, seq: taskSeq, ...patch }, change);
        await note('running', null);
        try {
          const after = await action.run(x, (change) => note('running', change));
          await note('done', after ? { put: after } : { remove: c.address }, { after });
          return { before: c.before, after };
        } catch (e) {
          await note('failed', null, { error: errText(e) });
          throw e;
        }
      },
      rollback: async (r) => {
        const change = await action.undo(await env(), r);
        await checkpoint(c, 'rolled_back', { before: r.before, after: r.after }, change);
      },
    };
  });

  // A resumed run keeps what it completed; if it had failed (and crashed while rolling back), it starts
  // nothing and the orchestrator finishes its rollback.
  const done = new Map<string, TaskResult>();
  const failedBefore: { id: string; error: unknown }[] = [];
  for (const t of [...(resume?.tasks ?? [])].sort((a, b) => a.seq - b.seq)) {
    if (t.status === 'done') done.set(t.address, { before: t.before, after: t.after });
    else if (t.status === 'failed') failedBefore.push({ id: t.address, error: new Error(t.error ?? 'failed') });
  }

  const actionOf = (id: string) => byAddress.get(id)?.action ?? '?';
  const onEvent = (e: OrchEvent) =>
    deps.onEvent?.({
      type: e.type,
      address: e.id,
      action: actionOf(e.id),
      ...(e.type === 'start' || e.type === 'retry' ? { attempt: e.attempt } : {}),
      ...(e.type === 'retry' ? { waitMs: e.waitMs } : {}),
      ...('error' in e ? { error: errText(e.error) } : {}),
    });

  const report = await runDag(tasks, {
    parallelism: opts.parallelism,
    retry: deps.retry,
    rollback: opts.rollback,
    done,
    ...(failedBefore.length > 0 ? { failed: failedBefore } : {}),
    onEvent,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });

  const byAction = (ids: string[], ...actions: string[]) => ids.filter((id) => actions.includes(actionOf(id))).length;
  const kept = report.done.filter((id) => !report.rolledBack.includes(id));
  let status: RunStatus;
  if (report.ok) status = 'succeeded';
  else if (report.interrupted && report.failed.length === 0) status = 'interrupted';
  else if (report.rollbackFailed.length > 0) status = 'rollback_failed';
  else if (opts.rollback && report.failed.length > 0) status = 'rolled_back';
  else status = 'failed';
  const result: RunResult = {
    run_id: runId,
    status,
    added: byAction(kept, 'create', 'replace'),
    changed: byAction(kept, 'update'),
    destroyed: byAction(kept, 'delete', 'replace'),
    failed: report.failed.map((f) => ({
      address: f.id,
      error: errText(f.error),
      ...(f.error instanceof StratumError && f.error.details ? { details: f.error.details } : {}),
      ...(f.error instanceof StratumError ? { code: f.error.code } : {}),
      ...(f.error instanceof StratumError && f.error.hint ? { hint: f.error.hint } : {}),
    })),
    rolled_back: report.rolledBack,
    rollback_failed: report.rollbackFailed.map((f) => ({ address: f.id, error: errText(f.error) })),
    skipped: report.skipped,
    done: report.done,
  };
  const error = result.failed.map((f) => `${f.address}: ${f.error}`).join('; ') || null;
  if (status === 'interrupted') await store.setRunStatus(runId, 'interrupted');
  else
    await store.finishRun(runId, status, {
      error,
      summary: {
        added: result.added,
        changed: result.changed,
        destroyed: result.destroyed,
        rolled_back: result.rolled_back.length,
        failed: result.failed.length,
      },
    });
  return result;
}

/**
 * A run as it is: one recorded as running whose process is gone (same host, pid dead) is interrupted
 * (prov resume continues it), not running.
 */
export function effectiveStatus(run: RunRecord): RunStatus {
  if (run.status !== 'running') return run.status;
  const holder = { ...run, owner: run.who, operation: run.kind, run_id: run.id, created_at: run.started_at };
  return isStale(holder) ? 'interrupted' : 'running';
}

/** The run and its checkpoints, checked to be resumable. */
export async function loadResumable(
  store: StateStore,
  runId: string,
): Promise<{ run: RunRecord; tasks: TaskRecord[] }> {
  const run = await store.getRun(runId);
  if (!run) throw notFoundError(`no run ${runId}`, { hint: 'see prov history' });
  if (run.status !== 'running' && run.status !== 'interrupted' && run.status !== 'rollback_failed') {
    throw conflictError(`run ${runId} is ${run.status}; only an unfinished run or a failed rollback can be resumed`, {
      hint: 'see prov history',
    });
  }
  if (
    run.status === 'running' &&
    run.host === hostname() &&
    !isStale({ ...run, id: run.id, owner: run.who, operation: run.kind, run_id: run.id, created_at: run.started_at })
  ) {
    throw conflictError(`run ${runId} is still running (pid ${run.pid})`);
  }
  return { run, tasks: await store.tasks(runId) };
}

/**
 * Resources whose real state nobody knows after the run: a step cut off because its host or API could not be
 * reached (it may have done part of its work), and rollbacks that failed.
 */
export function unknownResources(r: RunResult): string[] {
  return [
    ...r.failed.filter((f) => f.code === 'unavailable').map((f) => f.address),
    ...r.rollback_failed.map((f) => f.address),
  ];
}

export function summaryText(r: RunResult, kind: RunKind): string {
  const text = summaryLine(r, kind);
  const unknown = unknownResources(r);
  if (unknown.length === 0 || r.status === 'succeeded') return text;
  return `${text}\nIn an unknown state (could not be reached or undone): ${unknown.join(', ')}. When they are reachable: prov plan (refreshes and shows what is there), then prov apply${r.status === 'rollback_failed' ? ` or prov resume ${r.run_id} (finishes the rollback)` : ''}.`;
}

function summaryLine(r: RunResult, kind: RunKind): string {
  const verb = kind === 'destroy' ? 'Destroy' : 'Apply';
  if (r.status === 'succeeded')
    return `${verb} complete! Resources: ${r.added} added, ${r.changed} changed, ${r.destroyed} destroyed.`;
  if (r.status === 'rolled_back') {
    const unknown = unknownResources(r).length > 0;
    return `${verb} failed and was rolled back: ${r.rolled_back.length} task(s) undone${unknown ? '' : '; everything is as it was'}.`;
  }
  if (r.status === 'rollback_failed')
    return `${verb} failed and the rollback failed for ${r.rollback_failed.map((f) => f.address).join(', ')}.`;
  if (r.status === 'interrupted') return `${verb} interrupted: continue with prov resume ${r.run_id}.`;
  return `${verb} failed: ${r.added} added, ${r.changed} changed, ${r.destroyed} destroyed before the failure (kept: --no-rollback).`;
}
