import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { NickelEngine } from '@stratumiops/nickel';
import { assetPath } from '@stratumiops/shared/assets';
import { conflictError, notFoundError, StratumError, usageError, validationError } from '@stratumiops/shared/errors';
import { processAlive } from '@stratumiops/shared/fs';
import { byCodeUnits } from '@stratumiops/shared/order';
import * as z from '@stratumiops/shared/zod';
import { callNickelFunction, leadingComment } from './cluster.js';
import { type Executor, HostError, type HostTarget, installRoot, shq } from './executor.js';
import { type OrchEvent, type OrchTask, type RetryPolicy, runDag } from './orchestrator.js';
import { newRunId } from './state.js';
import { runTaskserv, type TaskservDefinition } from './taskserv.js';
import type { Attrs } from './types.js';
import { writeAtomic } from './workspace.js';

const Step = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  description: z.string().default(''),
  kind: z.enum(['exec', 'taskserv', 'health', 'wait', 'backup']),
  on: z.string().default('all'),
  run: z.string().default(''),
  undo: z.string().default(''),
  service: z.string().default(''),
  version: z.string().default(''),
  config: z.record(z.string(), z.unknown()).default({}),
  per_host: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  retries: z.number().int().min(0).default(0),
  delay_s: z.number().min(0).default(1),
  timeout_s: z.number().int().positive().default(600),
  depends_on: z.array(z.string()).default([]),
});
const Workflow = z.object({ name: z.string(), description: z.string().default(''), steps: z.array(Step).min(1) });
export type WorkflowDef = z.infer<typeof Workflow>;

export interface WorkflowTarget {
  host: string;
  address: string;
  index: number;
}

/** What a workflow function is called with (schemas/workflow.ncl Context). */
export interface WorkflowContext {
  cluster: { name: string; kind: string; template: string; settings: Attrs };
  hosts: WorkflowTarget[];
  params: Attrs;
}

/** One step on one host: what the orchestrator runs, stored whole in the run so resume needs nothing else. */
export interface WorkflowTask {
  id: string;
  step: string;
  kind: WorkflowDef['steps'][number]['kind'];
  /** Host name, or "local" for steps that run on this machine. */
  host: string;
  run: string;
  undo: string;
  service: string;
  version: string;
  config: Attrs;
  retries: number;
  delay_s: number;
  timeout_s: number;
  deps: string[];
}

export type WorkflowStatus = 'running' | 'succeeded' | 'failed' | 'rolled_back' | 'rollback_failed' | 'interrupted';

export interface TimelineEvent {
  at: string;
  type: OrchEvent['type'] | 'run-start' | 'run-end' | 'resume';
  id?: string;
  attempt?: number;
  error?: string;
  status?: string;
}

/** A workflow run as journalled after every event: the checkpoint that resume and status read. */
export interface WorkflowRun {
  id: string;
  workflow: string;
  file: string;
  cluster: string | null;
  hosts: string[];
  params: Attrs;
  status: WorkflowStatus;
  pid: number;
  hostname: string;
  started_at: string;
  finished_at: string | null;
  options: { parallelism: number; rollback: boolean };
  tasks: WorkflowTask[];
  /** Completed tasks in completion order, with what they returned (rollback gets it back). */
  done: { id: string; result: unknown }[];
  rolled_back: string[];
  failed: { id: string; error: string }[];
  timeline: TimelineEvent[];
}

// ---------- definitions ----------

export function workflowDirs(extra: string[] = []): string[] {
  const shipped = assetPath(
    new URL('../../templates/workflows', import.meta.url),
    new URL('../../../../templates/workflows', import.meta.url),
  );
  return [...extra, shipped].filter((d) => existsSync(d));
}

export function listWorkflows(dirs: string[]): { name: string; path: string; description: string }[] {
  const out = new Map<string, { name: string; path: string; description: string }>();
  for (const d of [...dirs].reverse()) {
    for (const f of readdirSync(d)) {
      if (!f.endsWith('.ncl') || f.startsWith('_')) continue;
      const path = join(d, f);
      out.set(f.slice(0, -4), { name: f.slice(0, -4), path, description: leadingComment(path) });
    }
  }
  return [...out.values()].sort((a, b) => byCodeUnits(a.name, b.name));
}

/** A workflow by name, or a path to a .ncl file. */
export function findWorkflow(name: string, dirs: string[], cwd = process.cwd()): { name: string; path: string } {
  if (name.endsWith('.ncl') || name.includes('/')) {
    const path = resolve(cwd, name);
    if (!existsSync(path)) throw notFoundError(`no workflow file ${path}`);
    return { name: basename(path, '.ncl'), path };
  }
  const w = listWorkflows(dirs).find((x) => x.name === name);
  if (!w)
    throw notFoundError(`no workflow '${name}'`, {
      hint: `have: ${
        listWorkflows(dirs)
          .map((x) => x.name)
          .join(', ') || 'none'
      }`,
    });
  return w;
}

/** Calls the workflow function with the context and checks what it returns. */
export async function evaluateWorkflow(
  engine: NickelEngine,
  file: string,
  ctx: WorkflowContext,
  importPaths: string[],
): Promise<WorkflowDef> {
  const r = Workflow.safeParse(await callNickelFunction(engine, file, ctx, importPaths));
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw validationError(`workflow ${file}: ${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}

/**
 * Steps × hosts → tasks. `step@host` depends on every task of the steps it names; `leader` is resolved by the
 * caller (it is a fact of the running cluster, not of the definition).
 */
export function expandWorkflow(def: WorkflowDef, ctx: WorkflowContext, leader?: string): WorkflowTask[] {
  const ids = new Set<string>();
  for (const s of def.steps) {
    if (ids.has(s.id)) throw validationError(`workflow ${def.name}: step ${s.id} appears twice`);
    ids.add(s.id);
  }
  const byStep = new Map<string, string[]>();
  const tasks: WorkflowTask[] = [];
  for (const s of def.steps) {
    for (const d of s.depends_on)
      if (!ids.has(d)) throw validationError(`workflow ${def.name}: step ${s.id} depends on ${d}, which is not a step`);
    let hosts: string[];
    if (s.kind === 'backup' || s.on === 'local') hosts = ['local'];
    else if (s.on === 'all') hosts = ctx.hosts.map((h) => h.host);
    else if (s.on === 'first') hosts = ctx.hosts.slice(0, 1).map((h) => h.host);
    else if (s.on === 'leader') {
      if (!leader) throw validationError(`workflow ${def.name}: step ${s.id} runs on the leader, and there is none`);
      hosts = [leader];
    } else if (ctx.hosts.some((h) => h.host === s.on)) hosts = [s.on];
    else throw validationError(`workflow ${def.name}: step ${s.id} runs on ${s.on}, which is not one of its hosts`);
    if (s.kind === 'exec' && !s.run) throw validationError(`workflow ${def.name}: exec step ${s.id} has no run`);
    if (s.kind === 'health' && !s.run) throw validationError(`workflow ${def.name}: health step ${s.id} has no run`);
    if (s.kind === 'taskserv' && !s.service)
      throw validationError(`workflow ${def.name}: taskserv step ${s.id} names no service`);
    const list: string[] = [];
    for (const h of hosts) {
      const id = h === 'local' ? s.id : `${s.id}@${h}`;
      list.push(id);
      tasks.push({
        id,
        step: s.id,
        kind: s.kind,
        host: h,
        run: s.run,
        undo: s.undo,
        service: s.service,
        version: s.version,
        config: { ...s.config, ...(s.per_host[h] ?? {}) },
        retries: s.retries,
        delay_s: s.delay_s,
        timeout_s: s.timeout_s,
        deps: [],
      });
    }
    byStep.set(s.id, list);
  }
  for (const t of tasks) {
    const s = def.steps.find((x) => x.id === t.step)!;
    t.deps = s.depends_on.flatMap((d) => byStep.get(d) ?? []);
  }
  return tasks;
}

// ---------- journal ----------

export class WorkflowRuns {
  constructor(private readonly dir: string) {}

  static forWorkspace(cwd = process.cwd()): WorkflowRuns {
    return new WorkflowRuns(join(cwd, '.prov', 'workflows'));
  }

  private file(id: string) {
    if (!/^[0-9A-Za-z-]+$/.test(id)) throw usageError(`not a run id: ${id}`);
    return join(this.dir, `${id}.json`);
  }

  save(run: WorkflowRun): void {
    writeAtomic(this.file(run.id), `${JSON.stringify(run)}\n`, 0o600);
  }

  get(id: string): WorkflowRun {
    const f = this.file(id);
    if (!existsSync(f)) throw notFoundError(`no workflow run ${id}`, { hint: 'prov workflow list --runs' });
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as WorkflowRun;
    } catch (e) {
      throw validationError(`workflow run ${f} is unreadable: ${(e as Error).message}`);
    }
  }

  list(): WorkflowRun[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.get(f.slice(0, -5)))
      .sort((a, b) => byCodeUnits(b.started_at, a.started_at));
  }
}

/** A run recorded as running whose process is gone was interrupted (killed, crashed, machine restarted). */
export function effectiveWorkflowStatus(run: WorkflowRun): WorkflowStatus {
  if (run.status === 'running' && run.hostname === hostname() && !processAlive(run.pid)) return 'interrupted';
  return run.status;
}

export function newWorkflowRun(
  def: WorkflowDef,
  file: string,
  ctx: WorkflowContext,
  tasks: WorkflowTask[],
  options: WorkflowRun['options'],
): WorkflowRun {
  return {
    id: newRunId(),
    workflow: def.name,
    file,
    cluster: ctx.cluster.name || null,
    hosts: ctx.hosts.map((h) => h.host),
    params: ctx.params,
    status: 'running',
    pid: process.pid,
    hostname: hostname(),
    started_at: new Date().toISOString(),
    finished_at: null,
    options,
    tasks,
    done: [],
    rolled_back: [],
    failed: [],
    timeline: [],
  };
}

// ---------- execution ----------

export interface WorkflowDeps {
  exec: Executor;
  targets: Record<string, HostTarget>;
  definition(name: string): Promise<TaskservDefinition>;
  /** For backup steps: takes a backup of the run's cluster into the folder, returns where it went. */
  backup?(output: string, keep?: number): Promise<string>;
  retry: RetryPolicy;
  onEvent?(e: TimelineEvent): void;
  signal?: AbortSignal;
  sleep?(ms: number): Promise<void>;
}

/**
 * Runs a step's script on its host under a guard: the script runs detached (it survives prov being killed),
 * its pid and exit code are kept in files under the host's state folder, and a later attempt of the same task
 * (a resume after kill -9) waits for a still-running orphan and takes its result instead of starting the
 * script a second time. An earlier attempt that succeeded is not run again either.
 */
function guarded(runId: string, taskId: string, script: string): string {
  const g = `"$state_dir/guards/${runId}/${taskId.replace(/[^A-Za-z0-9_.@-]/g, '_')}"`;
  return [
    `g=${g}`,
    'mkdir -p "$(dirname "$g")"',
    'if [ -f "$g.pid" ] && kill -0 "$(cat "$g.pid")" 2>/dev/null; then',
    '  echo "waiting for the same step still running from an earlier attempt (pid $(cat "$g.pid"))" >&2',
    '  while kill -0 "$(cat "$g.pid")" 2>/dev/null; do sleep 0.2; done',
    'fi',
    'if [ -f "$g.rc" ] && [ "$(cat "$g.rc")" = 0 ]; then cat "$g.out" 2>/dev/null; exit 0; fi',
    'rm -f "$g.rc" "$g.out"',
    `setsid sh -c ${shq(`set -eu\n${script}`)} >"$g.out" 2>&1 </dev/null & pid=$!`,
    'echo "$pid" >"$g.pid.tmp" && mv "$g.pid.tmp" "$g.pid"',
    'set +e; wait "$pid"; rc=$?; set -e',
    'echo "$rc" >"$g.rc"; rm -f "$g.pid"; cat "$g.out"; exit "$rc"',
  ].join('\n');
}

function stepEnv(run: WorkflowRun, t: WorkflowTask, h: HostTarget | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(run.params)) if (/^[A-Za-z_]\w*$/.test(k)) env[k] = String(v);
  for (const [k, v] of Object.entries(t.config))
    if (/^[A-Za-z_]\w*$/.test(k)) env[k] = typeof v === 'string' ? v : JSON.stringify(v);
  const root = h ? installRoot(h) : '';
  return {
    ...env,
    host: t.host,
    address: h?.address ?? '127.0.0.1',
    root,
    state_dir: `${root}/var/lib/prov/workflows`,
    cluster: run.cluster ?? '',
    run_id: run.id,
    step: t.step,
  };
}

function commandError(t: WorkflowTask, r: { exitCode: number; stderr: string; stdout: string; timedOut: boolean }) {
  const last = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ');
  return new HostError(
    t.host,
    'command',
    `step ${t.step} ${r.timedOut ? `timed out after ${t.timeout_s} s` : `exited ${r.exitCode}`}${last ? `: ${last}` : ''}`,
    { retryable: t.retries > 0 },
  );
}

function orchTasks(run: WorkflowRun, deps: WorkflowDeps): OrchTask[] {
  const sleep = deps.sleep ?? ((ms: number) => delay(ms));
  const host = (t: WorkflowTask) => {
    const h = deps.targets[t.host];
    if (!h) throw new StratumError('usage', `step ${t.id}: unknown host ${t.host}`);
    return h;
  };
  return run.tasks.map((t) => ({
    id: t.id,
    deps: t.deps,
    // A step's own retries cover any failure; without them only transient ones (a host that dropped) are retried.
    retry: { retries: t.kind !== 'health' && t.retries > 0 ? t.retries : deps.retry.retries },
    retryable: (e) => (t.kind !== 'health' && t.retries > 0) || Boolean((e as { retryable?: boolean }).retryable),
    run: async () => {
      switch (t.kind) {
        case 'wait':
          await sleep(t.delay_s * 1000);
          return {};
        case 'backup': {
          if (!deps.backup) throw new StratumError('usage', `step ${t.id}: backup steps need a PostgreSQL cluster`);
          const out = String(t.config.output ?? run.params.output ?? './backups');
          const keep = t.config.keep ?? run.params.keep;
          return { dir: await deps.backup(out, keep === undefined ? undefined : Number(keep)) };
        }
        case 'health': {
          const h = host(t);
          let r: Awaited<ReturnType<Executor['run']>> | undefined;
          for (let i = 0; i <= t.retries; i++) {
            if (i > 0) await sleep(t.delay_s * 1000);
            r = await deps.exec.run(h, {
              name: t.id,
              script: `set -eu\n${t.run}`,
              env: stepEnv(run, t, h),
              timeoutS: t.timeout_s,
            });
            if (r.exitCode === 0) return { output: r.stdout.trim().slice(-2000) };
          }
          throw commandError({ ...t, retries: 0 }, r!);
        }
        case 'taskserv': {
          const h = host(t);
          const rep = await runTaskserv('install', {
            exec: deps.exec,
            host: h,
            def: await deps.definition(t.service),
            ...(t.version ? { version: t.version } : {}),
            config: t.config,
          });
          return { service: t.service, steps: rep.steps.length };
        }
        default: {
          const h = host(t);
          const r = await deps.exec.run(h, {
            name: t.id,
            script: guarded(run.id, t.id, t.run),
            env: stepEnv(run, t, h),
            timeoutS: t.timeout_s,
          });
          if (r.exitCode !== 0) throw commandError(t, r);
          return { output: r.stdout.trim().slice(-2000) };
        }
      }
    },
    ...(t.kind === 'exec' && t.undo
      ? {
          rollback: async () => {
            const h = host(t);
            const r = await deps.exec.run(h, {
              name: `${t.id}:undo`,
              script: `set -eu\n${t.undo}`,
              env: stepEnv(run, t, h),
              timeoutS: t.timeout_s,
            });
            if (r.exitCode !== 0) throw commandError({ ...t, step: `${t.step} (undo)` }, r);
          },
        }
      : {}),
    ...(t.kind === 'taskserv'
      ? {
          rollback: async () => {
            await runTaskserv('uninstall', {
              exec: deps.exec,
              host: host(t),
              def: await deps.definition(t.service),
              ...(t.version ? { version: t.version } : {}),
              config: t.config,
            });
          },
        }
      : {}),
  }));
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Walks a run's tasks with the orchestrator, which also does every undo: each event is journalled before the
 * walk goes on, so a kill -9 loses at most the step that was running, and that step's guard on the host keeps
 * it from running twice. `undo`: start nothing and undo the completed steps (an explicit rollback).
 */
async function walk(runs: WorkflowRuns, run: WorkflowRun, deps: WorkflowDeps, undo: boolean) {
  run.status = 'running';
  run.pid = process.pid;
  run.hostname = hostname();
  run.finished_at = null;
  if (!undo) note(run, deps, { at: new Date().toISOString(), type: run.done.length ? 'resume' : 'run-start' });
  runs.save(run);
  // A run that had failed (and stopped while rolling back) starts nothing: the orchestrator finishes its rollback.
  const failed = run.failed.map((f) => ({ id: f.id, error: new Error(f.error) }));
  return runDag(orchTasks(run, deps), {
    parallelism: run.options.parallelism,
    retry: deps.retry,
    rollback: run.options.rollback,
    done: new Map(run.done.map((d) => [d.id, d.result])),
    ...(failed.length ? { failed } : {}),
    ...(undo ? { undo } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    onEvent: (e) => {
      const base: TimelineEvent = { at: new Date().toISOString(), type: e.type, id: e.id };
      if ('attempt' in e) base.attempt = e.attempt;
      if ('error' in e) base.error = errText(e.error);
      if (e.type === 'done') run.done.push({ id: e.id, result: e.result });
      if (e.type === 'failed') run.failed.push({ id: e.id, error: errText(e.error) });
      if (e.type === 'rolled-back') {
        run.rolled_back.push(e.id);
        run.done = run.done.filter((d) => d.id !== e.id);
      }
      note(run, deps, base);
      runs.save(run);
    },
  });
}

function note(run: WorkflowRun, deps: WorkflowDeps, e: TimelineEvent) {
  run.timeline.push(e);
  deps.onEvent?.(e);
}

function finish(runs: WorkflowRuns, run: WorkflowRun, deps: WorkflowDeps, status: WorkflowStatus): WorkflowRun {
  run.status = status;
  run.finished_at = new Date().toISOString();
  note(run, deps, { at: run.finished_at, type: 'run-end', status });
  runs.save(run);
  return run;
}

/** Runs (or, for a run with completed tasks, continues) a workflow; a failure undoes the completed steps. */
export async function executeWorkflow(runs: WorkflowRuns, run: WorkflowRun, deps: WorkflowDeps): Promise<WorkflowRun> {
  const report = await walk(runs, run, deps, false);
  return finish(
    runs,
    run,
    deps,
    report.interrupted
      ? 'interrupted'
      : report.ok
        ? 'succeeded'
        : report.rollbackFailed.length
          ? 'rollback_failed'
          : run.options.rollback
            ? 'rolled_back'
            : 'failed',
  );
}

/** Undoes a finished run's completed steps in reverse completion order (e.g. lifting a hardening). */
export async function rollbackWorkflow(runs: WorkflowRuns, run: WorkflowRun, deps: WorkflowDeps): Promise<WorkflowRun> {
  const report = await walk(runs, run, deps, true);
  return finish(runs, run, deps, report.rollbackFailed.length ? 'rollback_failed' : 'rolled_back');
}

/** A run that may be continued: not running in a live process, not finished. */
export function assertResumable(run: WorkflowRun): void {
  const s = effectiveWorkflowStatus(run);
  if (s === 'running')
    throw conflictError(`workflow run ${run.id} is still running (pid ${run.pid} on ${run.hostname})`, {
      hint: `prov workflow status ${run.id}`,
    });
  if (s === 'succeeded' || s === 'rolled_back')
    throw conflictError(`workflow run ${run.id} already ${s.replace('_', ' ')}`, { hint: 'nothing to resume' });
}
