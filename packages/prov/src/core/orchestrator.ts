import { setTimeout as delay } from 'node:timers/promises';
import { topoSort } from './graph.js';

/** Retry with exponential backoff: seed defaults 3 retries, 1 s first wait, ×2, at most 60 s. */
export interface RetryPolicy {
  retries: number;
  initialMs: number;
  factor: number;
  maxMs: number;
}
export const defaultRetry: RetryPolicy = { retries: 3, initialMs: 1000, factor: 2, maxMs: 60_000 };

export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * policy.factor ** (attempt - 1));
}

export interface OrchTask<R = unknown> {
  id: string;
  deps: string[];
  run(attempt: number): Promise<R>;
  /** Whether a failure may be retried (default: only errors marked `retryable`). */
  retryable?(e: unknown): boolean;
  /** The inverse of a completed task, given what run() returned (or what a checkpoint recorded). */
  rollback?(result: R): Promise<void>;
  retry?: Partial<RetryPolicy>;
}

export type OrchEvent =
  | { type: 'start'; id: string; attempt: number }
  | { type: 'retry'; id: string; attempt: number; waitMs: number; error: unknown }
  | { type: 'done'; id: string; result: unknown; attempts: number }
  | { type: 'failed'; id: string; error: unknown; attempts: number }
  | { type: 'rollback-start'; id: string }
  | { type: 'rolled-back'; id: string }
  | { type: 'rollback-failed'; id: string; error: unknown };

export interface OrchOptions {
  parallelism: number;
  retry?: RetryPolicy;
  /** Undo completed tasks in reverse order when one fails (default true). */
  rollback?: boolean;
  /** Tasks completed by an earlier, interrupted run, in completion order, with their results. */
  done?: Map<string, unknown>;
  /**
   * Failures an earlier run recorded before it stopped (e.g. it crashed while rolling back): nothing starts, and the
   * completed tasks in `done` are undone as that run would have (unless rollback is off).
   */
  failed?: { id: string; error: unknown }[];
  /**
   * Undo a finished run: nothing starts, and every completed task in `done` is undone in reverse completion
   * order, whether or not anything failed and whatever `rollback` says (e.g. `prov workflow rollback` of a
   * run that succeeded).
   */
  undo?: boolean;
  /** Awaited: checkpoints are written here before the walk goes on. */
  onEvent?(e: OrchEvent): void | Promise<void>;
  sleep?(ms: number): Promise<void>;
  /** Stop starting new tasks (e.g. on SIGINT); running ones finish. */
  signal?: AbortSignal;
}

export interface OrchReport {
  ok: boolean;
  /** Completed tasks, in completion order (including those done before a resume). */
  done: string[];
  failed: { id: string; error: unknown }[];
  /** Never started because something failed or the walk was stopped. */
  skipped: string[];
  rolledBack: string[];
  rollbackFailed: { id: string; error: unknown }[];
  interrupted: boolean;
}

const isRetryable = (e: unknown) => Boolean((e as { retryable?: boolean } | null)?.retryable);

/**
 * Walks a DAG of tasks: a task starts as soon as its dependencies are done, at most `parallelism` at once,
 * each retried with backoff; after a failure nothing new starts, running tasks finish, and (unless rollback
 * is off) every completed task is undone in reverse completion order, which is a reverse topological order.
 * Every rollback prov makes happens here: a failed run's, a resumed run's (see `done` and `failed`) and an
 * explicit undo of a finished run (see `undo`).
 */
export async function runDag<R>(tasks: OrchTask<R>[], opts: OrchOptions): Promise<OrchReport> {
  const order = topoSort(tasks, { ignoreMissing: true });
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const policy = opts.retry ?? defaultRetry;
  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  const emit = async (e: OrchEvent) => {
    if (opts.onEvent) await opts.onEvent(e);
  };

  const results = new Map<string, unknown>(opts.done ?? []);
  const done: string[] = [...results.keys()];
  const failed: { id: string; error: unknown }[] = [...(opts.failed ?? [])];
  const failedBefore = failed.length > 0;
  // Nothing new starts on a run that had failed before or that is being undone.
  const startNothing = failedBefore || opts.undo === true;
  const remainingDeps = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const t of tasks) {
    if (results.has(t.id)) continue;
    const pending = t.deps.filter((d) => byId.has(d) && !results.has(d));
    remainingDeps.set(t.id, pending.length);
    for (const d of pending) {
      const l = dependents.get(d);
      if (l) l.push(t.id);
      else dependents.set(d, [t.id]);
    }
  }
  // Ready queue in topological order, so runs are deterministic for a given graph.
  const rank = new Map(order.map((id, i) => [id, i]));
  const ready = order.filter((id) => remainingDeps.get(id) === 0);
  let running = 0;
  let stopped = startNothing;
  let interrupted = false;

  await new Promise<void>((resolveWalk) => {
    const finishIfIdle = () => {
      if (running === 0 && (stopped || ready.length === 0)) resolveWalk();
    };
    const pump = () => {
      if (opts.signal?.aborted && !stopped) {
        stopped = true;
        interrupted = true;
      }
      while (!stopped && running < opts.parallelism && ready.length > 0) {
        const id = ready.shift()!;
        running++;
        void execute(byId.get(id)!).then(
          () => {
            running--;
            pump();
          },
          (error) => {
            // onEvent threw (e.g. the state store is gone): stop like a task failure.
            running--;
            failed.push({ id, error });
            stopped = true;
            pump();
          },
        );
      }
      finishIfIdle();
    };
    const execute = async (t: OrchTask<R>) => {
      const p = { ...policy, ...t.retry };
      for (let attempt = 1; ; attempt++) {
        await emit({ type: 'start', id: t.id, attempt });
        try {
          const result = await t.run(attempt);
          results.set(t.id, result);
          done.push(t.id);
          await emit({ type: 'done', id: t.id, result, attempts: attempt });
          for (const m of dependents.get(t.id) ?? []) {
            const left = remainingDeps.get(m)! - 1;
            remainingDeps.set(m, left);
            if (left === 0) insertByRank(ready, m, rank);
          }
          return;
        } catch (error) {
          const retry = (t.retryable ?? isRetryable)(error) && attempt <= p.retries && !stopped;
          if (!retry) {
            failed.push({ id: t.id, error });
            stopped = true;
            await emit({ type: 'failed', id: t.id, error, attempts: attempt });
            return;
          }
          const waitMs = backoffMs(p, attempt);
          await emit({ type: 'retry', id: t.id, attempt, waitMs, error });
          await sleep(waitMs);
        }
      }
    };
    pump();
  });

  const started = new Set([...done, ...failed.map((f) => f.id)]);
  // A walk that never started skips nothing: the earlier run reported what it had not started.
  const skipped = startNothing ? [] : order.filter((id) => !started.has(id));
  const rolledBack: string[] = [];
  const rollbackFailed: { id: string; error: unknown }[] = [];
  if (opts.undo || (failed.length > 0 && opts.rollback !== false)) {
    for (const id of [...done].reverse()) {
      const t = byId.get(id);
      if (!t?.rollback) continue;
      await emit({ type: 'rollback-start', id });
      try {
        await rollbackWithRetry(t, results.get(id) as R, policy, emit, sleep);
        rolledBack.push(id);
        await emit({ type: 'rolled-back', id });
      } catch (error) {
        rollbackFailed.push({ id, error });
        await emit({ type: 'rollback-failed', id, error });
      }
    }
  }
  return {
    ok: failed.length === 0 && !interrupted,
    done,
    failed,
    skipped,
    rolledBack,
    rollbackFailed,
    interrupted,
  };
}

/**
 * Undoes one task, retrying a transient failure with the same backoff as its forward step (a host that
 * drops during a rollback is tried again, not given up on at once).
 */
export async function rollbackWithRetry<R>(
  t: OrchTask<R>,
  result: R,
  policy: RetryPolicy,
  emit: (e: OrchEvent) => void | Promise<void>,
  sleep: (ms: number) => Promise<void> = (ms) => delay(ms),
): Promise<void> {
  const p = { ...policy, ...t.retry };
  for (let attempt = 1; ; attempt++) {
    try {
      await t.rollback?.(result);
      return;
    } catch (error) {
      if (!((t.retryable ?? isRetryable)(error) && attempt <= p.retries)) throw error;
      const waitMs = backoffMs(p, attempt);
      await emit({ type: 'retry', id: t.id, attempt, waitMs, error });
      await sleep(waitMs);
    }
  }
}

function insertByRank(queue: string[], id: string, rank: Map<string, number>) {
  const r = rank.get(id) ?? 0;
  let i = queue.length;
  while (i > 0 && (rank.get(queue[i - 1]!) ?? 0) > r) i--;
  queue.splice(i, 0, id);
}
