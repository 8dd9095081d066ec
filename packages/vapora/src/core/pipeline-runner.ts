import { conflictError, notFoundError, StratumError, validationError } from '@stratumiops/shared/errors';
import type { Caller } from './auth.js';
import { shortId } from './ids.js';
import type { Approval, PipelineRun, StepState, Task } from './model.js';
import { microToCents } from './model.js';
import {
  outputValue,
  type PipelineDef,
  type PipelineLibrary,
  render,
  resolveInputs,
  type StepDef,
} from './pipeline.js';
import type { VaporaService } from './service.js';

const ACTIVE: PipelineRun['status'][] = ['running', 'rolling_back'];

export interface StepView {
  step: string;
  phase: 'forward' | 'rollback';
  role: string;
  status: StepState['status'];
  task_id: string | null;
  task_status: string | null;
  agent: string | null;
  attempts: number;
  output: unknown;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  cost_cents: number;
}

export interface RunView {
  run: Omit<PipelineRun, 'definition'>;
  steps: StepView[];
  cost_cents: number;
}

/**
 * Runs pipelines over the task machinery: each step becomes a task (assigned by the scorer, run by workers over
 * the bus, gated by approvals like any task), and the run is advanced from what is stored (step states and task
 * states), so a run survives a crash of `vapora serve`: the next tick picks it up where the store says it is.
 *
 * A step that fails after its retries, is rejected, or is blocked by a Security step ({"block": true} in its
 * output) stops the run; the rollback steps of the completed steps then run one at a time, latest first.
 */
export class PipelineRunner {
  private busy = false;

  constructor(
    private readonly svc: VaporaService,
    readonly library: PipelineLibrary,
  ) {
    svc.approvals.on('step', (a, outcome, by) => this.onGate(a, outcome, by));
  }

  private get store() {
    return this.svc.store;
  }

  /**
   * A new run. `runId` and `createdBy` are given when an alert starts it (the id derived from the alert, the
   * alert as its creator); otherwise a fresh id and the caller's token.
   */
  async start(
    name: string,
    o: {
      project?: string | undefined;
      inputs?: Record<string, unknown>;
      runId?: string | undefined;
      createdBy?: string | undefined;
    },
    caller?: Caller,
  ): Promise<RunView> {
    const def = this.library.load(name);
    const inputs = resolveInputs(def, o.inputs ?? {});
    const project = o.project ? await this.svc.getProject(o.project, caller) : undefined;
    if (!project && caller && caller.projects !== null) {
      throw validationError('this token is scoped to projects: the run needs a project', { hint: 'pass --project' });
    }
    const now = this.svc.now();
    const run: PipelineRun = {
      id: o.runId ?? shortId('r'),
      pipeline: def.name,
      definition: def,
      projectId: project?.id ?? null,
      inputs,
      status: 'running',
      error: null,
      createdBy: o.createdBy ?? caller?.tokenId ?? null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    const steps = def.steps.map((s) => this.blank(run.id, s.id, 'forward'));
    await this.store.createRun(run, steps);
    await this.advance(run.id);
    return this.view(run.id, caller);
  }

  private blank(runId: string, stepId: string, phase: StepState['phase']): StepState {
    return {
      runId,
      stepId,
      phase,
      status: 'pending',
      taskId: null,
      output: null,
      attempts: 0,
      error: null,
      startedAt: null,
      finishedAt: null,
    };
  }

  async exists(id: string): Promise<boolean> {
    return (await this.store.getRun(id)) !== undefined;
  }

  async getRun(id: string, caller?: Caller): Promise<PipelineRun> {
    const r = await this.store.getRun(id);
    if (!r || (caller && caller.projects !== null && (!r.projectId || !caller.projects.includes(r.projectId))))
      throw notFoundError(`no pipeline run '${id}'`, { hint: "see 'vapora pipeline list'" });
    return r;
  }

  async view(id: string, caller?: Caller): Promise<RunView> {
    const run = await this.getRun(id, caller);
    const def = run.definition as PipelineDef;
    const states = await this.store.listSteps(id);
    const steps: StepView[] = [];
    let total = 0;
    const forward = def.steps.map((s) => states.find((x) => x.stepId === s.id && x.phase === 'forward'));
    const rollback = states
      .filter((x) => x.phase === 'rollback')
      .sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
    for (const st of [...forward, ...rollback]) {
      if (!st) continue;
      const sd = def.steps.find((s) => s.id === st.stepId);
      const task = st.taskId ? await this.store.getTask(st.taskId) : undefined;
      const costs = st.taskId ? await this.store.listCosts({ taskId: st.taskId }) : [];
      const cost = microToCents(costs.reduce((n, c) => n + c.costMicrocents, 0));
      total += cost;
      steps.push({
        step: st.stepId,
        phase: st.phase,
        role: (st.phase === 'rollback' ? sd?.rollback?.role : sd?.role) ?? '',
        status: st.status,
        task_id: st.taskId,
        task_status: task?.status ?? null,
        agent: task?.agentId ?? null,
        attempts: st.attempts,
        output: st.output,
        error: st.error,
        started_at: st.startedAt,
        finished_at: st.finishedAt,
        cost_cents: cost,
      });
    }
    const { definition: _, ...rest } = run;
    return { run: rest, steps, cost_cents: total };
  }

  async list(caller?: Caller) {
    const runs = await this.store.listRuns({ limit: 50 });
    return {
      pipelines: this.library.all().map((p) => ({
        name: p.name,
        description: p.def?.description ?? '',
        steps: p.def?.steps.map((s) => `${s.id}:${s.role}`) ?? [],
        ...(p.error ? { error: p.error } : {}),
      })),
      runs: runs
        .filter((r) => !caller || caller.projects === null || (r.projectId && caller.projects.includes(r.projectId)))
        .map(({ definition: _, ...r }) => r),
    };
  }

  show(name: string): PipelineDef {
    return this.library.load(name);
  }

  async cancel(id: string, caller?: Caller): Promise<RunView> {
    const run = await this.getRun(id, caller);
    if (run.status !== 'running') throw conflictError(`run ${id} is ${run.status}: only a running run is cancelled`);
    const by = caller ? caller.name : 'local';
    await this.stop(run, `cancelled by ${by}`);
    await this.advance(id);
    return this.view(id, caller);
  }

  /** A run whose rollback failed tries the failed rollback steps again; a running run is simply advanced. */
  async resume(id: string, caller?: Caller): Promise<RunView> {
    const run = await this.getRun(id, caller);
    if (run.status === 'rollback_failed') {
      for (const st of await this.store.listSteps(id)) {
        if (st.phase === 'rollback' && st.status === 'failed')
          await this.store.putStep({ ...st, status: 'pending', taskId: null, error: null });
      }
      await this.store.updateRun(id, { status: 'rolling_back', updatedAt: this.svc.now() }, ['rollback_failed']);
    } else if (!ACTIVE.includes(run.status)) {
      throw conflictError(`run ${id} is ${run.status}: nothing to resume`, {
        hint: 'start a new one: vapora pipeline run',
      });
    }
    await this.advance(id);
    return this.view(id, caller);
  }

  /** Advances every active run (the coordinator's tick): what a crash interrupted goes on from the store. */
  async advanceActive(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const r of await this.store.listRuns({ status: ACTIVE })) await this.advance(r.id);
    } finally {
      this.busy = false;
    }
  }

  /** A task of a run finished: move the run on at once instead of at the next tick. */
  async onTaskFinished(task: Task): Promise<void> {
    if (task.runId) await this.advance(task.runId).catch(() => {});
  }

  private vars(run: PipelineRun, states: StepState[]): Record<string, unknown> {
    const steps: Record<string, { output: unknown }> = {};
    for (const s of states) if (s.phase === 'forward' && s.status === 'done') steps[s.stepId] = { output: s.output };
    return { inputs: run.inputs, steps, run: { id: run.id }, project: run.projectId ?? '' };
  }

  private async stop(run: PipelineRun, error: string): Promise<void> {
    await this.store.updateRun(run.id, { status: 'rolling_back', error, updatedAt: this.svc.now() }, ['running']);
  }

  async advance(runId: string): Promise<void> {
    let run = await this.store.getRun(runId);
    if (!run || !ACTIVE.includes(run.status)) return;
    const def = run.definition as PipelineDef;
    let states = await this.store.listSteps(runId);
    if (run.status === 'running') {
      for (const st of states.filter((s) => s.phase === 'forward' && s.status === 'running')) {
        const step = def.steps.find((s) => s.id === st.stepId) as StepDef;
        const problem = await this.follow(run, step, st, step);
        if (problem) {
          await this.stop(run, problem);
          break;
        }
      }
      run = (await this.store.getRun(runId)) as PipelineRun;
      states = await this.store.listSteps(runId);
      if (run.status === 'running') {
        const done = new Set(states.filter((s) => s.phase === 'forward' && s.status === 'done').map((s) => s.stepId));
        if (done.size === def.steps.length) {
          await this.store.updateRun(
            runId,
            { status: 'succeeded', updatedAt: this.svc.now(), finishedAt: this.svc.now() },
            ['running'],
          );
          return;
        }
        for (const st of states.filter((s) => s.phase === 'forward' && s.status === 'pending')) {
          const step = def.steps.find((s) => s.id === st.stepId) as StepDef;
          if (!step.depends_on.every((d) => done.has(d))) continue;
          if (step.approval) {
            await this.store.putStep({ ...st, status: 'waiting', startedAt: this.svc.now() });
            await this.svc.approvals.request({
              kind: 'step',
              role: step.role,
              action: `run step '${step.id}' (${step.role}) of pipeline ${def.name}`,
              runId,
              stepId: step.id,
              details: { pipeline: def.name, inputs: run.inputs },
              requestedBy: run.createdBy,
            });
          } else await this.launch(run, step, step, st, states);
        }
        return;
      }
    }
    await this.rollBack(run, def);
  }

  /**
   * A step's task is asked for by whoever started the run (so they cannot approve it themselves), and a step
   * whose own gate a person passed is not gated again by its role.
   */
  private assignOptions(run: PipelineRun, step: StepDef, st: StepState) {
    return { requestedBy: run.createdBy, gatePassed: st.phase === 'forward' && step.approval };
  }

  /** Checks a running step's task; returns why the run must stop, if it must. */
  private async follow(
    run: PipelineRun,
    step: StepDef,
    st: StepState,
    spec: StepDef | NonNullable<StepDef['rollback']>,
  ): Promise<string | undefined> {
    const task = st.taskId ? await this.store.getTask(st.taskId) : undefined;
    if (!task) return `step '${st.stepId}': its task is gone`;
    if (task.status === 'todo') {
      // Nobody could take it yet (no agent of the role): try again.
      await this.svc.assign(task.id, this.assignOptions(run, step, st)).catch(() => {});
      return undefined;
    }
    if (task.status === 'done' || task.status === 'review') {
      const output = outputValue((task.result as { output?: unknown } | null)?.output);
      await this.store.putStep({ ...st, status: 'done', output, finishedAt: this.svc.now() });
      const verdict = output as { block?: unknown; reason?: unknown } | null;
      if (
        st.phase === 'forward' &&
        verdict &&
        typeof verdict === 'object' &&
        verdict.block === true &&
        this.svc.approvals.canBlock(spec.role)
      ) {
        return `blocked by ${spec.role} step '${step.id}': ${String(verdict.reason ?? 'no reason given')}`;
      }
      return undefined;
    }
    if (task.status === 'failed') {
      const retries = st.phase === 'forward' ? step.retries : 0;
      if (st.attempts <= retries && !/^rejected by|approval timed out/.test(task.error ?? '')) {
        await this.store.putStep({ ...st, attempts: st.attempts + 1, error: task.error });
        await this.svc.assign(task.id, this.assignOptions(run, step, st)).catch(() => {});
        return undefined;
      }
      await this.store.putStep({ ...st, status: 'failed', error: task.error, finishedAt: this.svc.now() });
      return `step '${st.stepId}' failed: ${task.error ?? 'unknown error'}`;
    }
    return undefined; // doing, awaiting_approval
  }

  private async launch(
    run: PipelineRun,
    step: StepDef,
    spec: StepDef | NonNullable<StepDef['rollback']>,
    st: StepState,
    states: StepState[],
  ): Promise<void> {
    const vars = this.vars(run, states);
    const rollback = st.phase === 'rollback';
    const title = render(spec.title ?? `${rollback ? 'roll back' : ''} ${step.id} (${run.pipeline})`.trim(), vars);
    const task = await this.svc.createTask({
      title: String(title).slice(0, 500) || step.id,
      type: spec.type ?? (rollback ? `${step.id}_rollback` : step.id),
      role: spec.role,
      priority: spec.priority,
      description: String(render(spec.description, vars)),
      payload: render(spec.payload, vars) as Record<string, unknown>,
      ...(run.projectId ? { project: run.projectId } : {}),
    });
    await this.store.updateTask(task.id, { runId: run.id, stepId: step.id });
    await this.store.putStep({ ...st, status: 'running', taskId: task.id, attempts: 1, startedAt: this.svc.now() });
    try {
      await this.svc.assign(task.id, this.assignOptions(run, step, st));
    } catch (e) {
      // No agent yet: the task waits in todo and the next tick assigns it. Anything else is the step's failure.
      if (!(e instanceof StratumError) || e.code !== 'unavailable') throw e;
    }
  }

  /** The completed steps' rollbacks, one at a time, latest completion first. */
  private async rollBack(run: PipelineRun, def: PipelineDef): Promise<void> {
    const states = await this.store.listSteps(run.id);
    const completed = states
      .filter((s) => s.phase === 'forward' && s.status === 'done')
      .sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0));
    for (const fs of completed) {
      const step = def.steps.find((s) => s.id === fs.stepId) as StepDef;
      if (!step.rollback) continue;
      const st =
        states.find((s) => s.phase === 'rollback' && s.stepId === step.id) ?? this.blank(run.id, step.id, 'rollback');
      if (st.status === 'done') continue;
      if (st.status === 'pending') {
        await this.launch(run, step, step.rollback, st, states);
        return;
      }
      const problem = await this.follow(run, step, st, step.rollback);
      const now = (await this.store.listSteps(run.id)).find((s) => s.phase === 'rollback' && s.stepId === step.id);
      if (problem) {
        await this.store.updateRun(
          run.id,
          {
            status: 'rollback_failed',
            error: `${run.error}; ${problem}`,
            updatedAt: this.svc.now(),
            finishedAt: this.svc.now(),
          },
          ['rolling_back'],
        );
        return;
      }
      if (now?.status !== 'done') return; // still running
    }
    const cancelled = run.error?.startsWith('cancelled');
    await this.store.updateRun(
      run.id,
      {
        status: cancelled ? 'cancelled' : 'rolled_back',
        updatedAt: this.svc.now(),
        finishedAt: this.svc.now(),
      },
      ['rolling_back'],
    );
  }

  /** A step gate decided: approved → the step runs; rejected or timed out → the run stops and rolls back. */
  private async onGate(a: Approval, outcome: 'approved' | 'rejected', by: string): Promise<void> {
    if (!a.runId || !a.stepId) return;
    const run = await this.store.getRun(a.runId);
    if (run?.status !== 'running') return;
    const def = run.definition as PipelineDef;
    const states = await this.store.listSteps(a.runId);
    const st = states.find((s) => s.phase === 'forward' && s.stepId === a.stepId && s.status === 'waiting');
    const step = def.steps.find((s) => s.id === a.stepId);
    if (!st || !step) return;
    if (outcome === 'approved') {
      await this.launch(run, step, step, st, states);
      return;
    }
    const why = a.status === 'expired' ? 'approval timed out' : `rejected by ${by}${a.reason ? `: ${a.reason}` : ''}`;
    await this.store.putStep({ ...st, status: 'failed', error: why, finishedAt: this.svc.now() });
    await this.stop(run, `step '${step.id}' ${why}`);
    await this.advance(run.id);
  }
}
