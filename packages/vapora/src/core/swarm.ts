import { conflictError, unavailableError, validationError } from '@stratumiops/shared/errors';
import type { Agents } from './agents.js';
import type { ApprovalDesk } from './approvals.js';
import { type Candidate, RECENT_MS, rankAgents } from './assignment.js';
import type { Caller } from './auth.js';
import type { Bus, DeadLetter, TaskAssignment, TaskResult } from './bus.js';
import { uuid } from './ids.js';
import type { MetricsSink } from './metrics.js';
import { type Approval, type Execution, type Outcome, roleSchema, type Task, type TaskStatus } from './model.js';
import { parse } from './parse.js';
import type { Role } from './roles.js';
import type { Store } from './store.js';
import type { Tasks } from './tasks.js';

export interface AssignOutcome {
  task: Task;
  chosen: Candidate | undefined;
  candidates: Candidate[];
  dryRun: boolean;
  /** Handed to the bus now (false: waits in the outbox for `vapora serve`). */
  dispatched: boolean;
  /** The role's work needs a person's approval first: the request made (the task waits in awaiting_approval). */
  approval?: Approval;
}

const FINISHED: Record<Outcome, TaskStatus> = {
  success: 'done',
  failure: 'failed',
  error: 'failed',
  timeout: 'failed',
  dead: 'failed',
  refused: 'failed',
};

/**
 * Assignment and its aftermath: scores the agents (core/assignment.ts) and assigns, parks work that needs a
 * person's approval, hands assignments to the bus (with an outbox), reassigns the work of silent agents, and
 * applies results and dead letters once per assignment.
 */
export class Swarm {
  constructor(
    private readonly store: Store,
    private readonly tasks: Tasks,
    private readonly agents: Agents,
    private readonly approvals: ApprovalDesk,
    private readonly o: {
      bus: () => Bus | undefined;
      metrics: MetricsSink;
      now: () => number;
      /** A task of a pipeline run finished: the run moves on. */
      onRunTaskFinished: (task: Task) => Promise<void>;
    },
  ) {}

  private now(): number {
    return this.o.now();
  }

  private bus(): Bus | undefined {
    return this.o.bus();
  }

  async rank(task: Task, role?: Role | null) {
    const agents = await this.store.listAgents(role ? { role } : {});
    const stats = await this.store.executionStats(task.type, this.now() - RECENT_MS);
    return rankAgents(agents, stats, { role, now: this.now(), heartbeatTimeoutMs: this.agents.heartbeatTimeoutMs });
  }

  /**
   * Scores the candidates and assigns the best (or `agentId`), then hands the assignment to the bus. The write
   * comes first: if the publish fails, the task waits in the outbox and `vapora serve` sends it (dedup by id).
   */
  async assign(
    taskId: string,
    o: {
      agentId?: string | undefined;
      role?: string | undefined;
      dryRun?: boolean | undefined;
      /** A person approved this run (internal: the approval desk calls back with it). */
      approved?: boolean | undefined;
      /** A person already approved this work (a pipeline gate): the role's approval is not asked again. */
      gatePassed?: boolean | undefined;
      /** Who asked for it when not the caller (a pipeline's starter): they may not approve it. */
      requestedBy?: string | null | undefined;
    } = {},
    caller?: Caller,
  ): Promise<AssignOutcome> {
    const task = await this.tasks.getTask(taskId, caller);
    const from: TaskStatus[] = o.approved ? ['awaiting_approval'] : ['todo', 'failed'];
    if (!o.dryRun && !from.includes(task.status)) {
      throw conflictError(`task '${taskId}' is ${task.status}${task.agentId ? ` (agent ${task.agentId})` : ''}`, {
        hint: "only todo or failed tasks are assigned; move it back with 'vapora task move'",
      });
    }
    const role = o.role === undefined ? task.role : parse(roleSchema, o.role, 'role');
    const ranking = await this.rank(task, role);
    let chosen = ranking.chosen;
    if (o.agentId) {
      const forced = ranking.candidates.find((c) => c.agentId === o.agentId);
      if (!forced) {
        await this.agents.getAgent(o.agentId);
        throw validationError(`agent '${o.agentId}' is not a ${role} agent`);
      }
      if (!forced.eligible) throw unavailableError(`agent '${o.agentId}' cannot take work: ${forced.reason}`);
      chosen = forced;
    }
    if (!chosen) {
      const why = ranking.candidates.map((c) => `${c.agentId}: ${c.reason}`).join('; ');
      throw unavailableError(
        `no eligible ${role ?? ''} agent for task '${taskId}'${why ? ` (${why})` : ''}`.replace('  ', ' '),
        {
          hint: role ? `start one: vapora worker --role ${role}` : "add one: 'vapora agent add --role <role>'",
          details: { candidates: ranking.candidates },
        },
      );
    }
    if (o.dryRun) return { task, chosen, candidates: ranking.candidates, dryRun: true, dispatched: false };
    const agentRole = role ?? (await this.agents.getAgent(chosen.agentId)).role;
    if (!o.approved && !o.gatePassed && this.approvals.needsApproval(agentRole)) {
      // The work of this role runs only once a person says so: the task waits in its own column.
      const parked = await this.store.updateTask(
        taskId,
        { status: 'awaiting_approval', error: null, updatedAt: this.now() },
        { status: from },
      );
      if (!parked) throw conflictError(`task '${taskId}' changed while it was being assigned; try again`);
      const approval = await this.approvals.request({
        kind: 'run',
        role: agentRole,
        action: `run ${agentRole} task '${task.title}' (${task.type})`,
        taskId,
        runId: task.runId ?? null,
        stepId: task.stepId ?? null,
        details: { agent: chosen.agentId, score: chosen.score, priority: task.priority },
        requestedBy: caller?.tokenId ?? o.requestedBy ?? null,
      });
      return { task: parked, chosen, candidates: ranking.candidates, dryRun: false, dispatched: false, approval };
    }
    const assigned = await this.store.assign({
      taskId,
      agentId: chosen.agentId,
      assignmentId: uuid(),
      from,
      now: this.now(),
    });
    if (!assigned) throw conflictError(`task '${taskId}' changed while it was being assigned; try again`);
    const dispatched = await this.dispatch(assigned).catch(() => false);
    const task2 = dispatched ? ((await this.store.getTask(taskId)) ?? assigned) : assigned;
    return { task: task2, chosen, candidates: ranking.candidates, dryRun: false, dispatched };
  }

  async assignmentOf(task: Task): Promise<TaskAssignment> {
    const agent = await this.agents.getAgent(task.agentId as string);
    return {
      task_id: task.id,
      assignment_id: task.assignmentId as string,
      agent_id: agent.id,
      agent_role: agent.role,
      task_type: task.type,
      title: task.title,
      description: task.description,
      payload: task.payload,
      priority: task.priority,
      provider: agent.provider,
      model: agent.model,
      over_budget_approved: task.overBudgetApproved === true,
      attempt: task.attempt,
    };
  }

  /** Publishes a written assignment and marks it dispatched. False without a bus. */
  async dispatch(task: Task): Promise<boolean> {
    const bus = this.bus();
    if (!bus || !task.assignmentId || !task.agentId) return false;
    await bus.publishAssignment(await this.assignmentOf(task));
    await this.store.updateTask(task.id, { dispatchedAt: this.now() }, { assignmentId: task.assignmentId });
    return true;
  }

  /** The outbox: assignments written but never published (crash, NATS down, no bus when assigned). */
  async dispatchPending(limit = 100): Promise<number> {
    let n = 0;
    for (const t of await this.store.undispatched(limit)) if (await this.dispatch(t).catch(() => false)) n++;
    return n;
  }

  /**
   * Agents silent for longer than the heartbeat timeout go offline; their tasks in `doing` are assigned again
   * (a new assignment id: if the old worker comes back, its result is ignored).
   */
  async sweepStale(): Promise<{ offline: string[]; reassigned: string[] }> {
    const offline = await this.store.markStaleOffline(this.now() - this.agents.heartbeatTimeoutMs);
    const reassigned: string[] = [];
    for (const id of offline) {
      await this.store.updateAgent(id, { load: 0 });
      for (const t of await this.store.tasksOfAgent(id, 'doing')) {
        const ranking = await this.rank(t, t.role);
        if (!ranking.chosen) continue;
        const moved = await this.store.assign({
          taskId: t.id,
          agentId: ranking.chosen.agentId,
          assignmentId: uuid(),
          from: ['doing'],
          now: this.now(),
        });
        if (moved) {
          reassigned.push(t.id);
          await this.dispatch(moved).catch(() => false);
        }
      }
    }
    return { offline, reassigned };
  }

  /** A worker's result: applied at most once per assignment; stale or duplicate results are ignored. */
  async applyResult(r: TaskResult): Promise<{ applied: boolean; status?: TaskStatus }> {
    const task = await this.store.getTask(r.task_id);
    if (!task) return { applied: false };
    const now = this.now();
    // Spending past the budget needs a person's approval (budget policy `approval`): the task waits for it.
    const status: TaskStatus = r.needs_approval ? 'awaiting_approval' : FINISHED[r.status];
    const execution: Execution = {
      id: uuid(),
      taskId: r.task_id,
      agentId: r.agent_id,
      role: r.agent_role,
      taskType: r.task_type,
      assignmentId: r.assignment_id,
      startedAt: r.started_at,
      finishedAt: now,
      durationMs: r.duration_ms,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      costMicrocents: r.cost_microcents,
      outcome: r.status,
      error: r.error,
    };
    const applied = await this.store.applyResult({
      taskId: r.task_id,
      assignmentId: r.assignment_id,
      status: status as 'done' | 'failed' | 'review' | 'awaiting_approval',
      result:
        r.output === null ? null : { output: r.output, provider: r.provider, model: r.model, deliveries: r.deliveries },
      error: r.error,
      execution,
      now,
    });
    if (applied && r.needs_approval) {
      await this.approvals.request({
        kind: 'budget',
        role: r.agent_role,
        action: `spend past the ${r.agent_role} budget for task ${r.task_id} (${r.task_type})`,
        taskId: r.task_id,
        runId: task.runId ?? null,
        stepId: task.stepId ?? null,
        details: { reason: r.error },
      });
    }
    if (applied && task.runId) await this.o.onRunTaskFinished(task);
    if (applied) {
      this.o.metrics.taskFinished(r.agent_role, r.status, r.duration_ms / 1000);
      if (r.provider) {
        this.o.metrics.llmUsage(r.agent_role, r.provider, r.cost_cents, r.input_tokens, r.output_tokens);
      }
      for (const f of r.fallbacks) this.o.metrics.fallback(r.agent_role, f.to.split(':')[0] ?? '', f.reason);
      if (r.budget_exceeded) this.o.metrics.budgetExceeded(r.agent_role);
    }
    return { applied, status };
  }

  /** A dead letter: the task fails with the reason, once (keyed by its assignment). */
  async applyDeadLetter(d: DeadLetter): Promise<boolean> {
    const a = d.assignment;
    if (!a) return false;
    const r = await this.applyResult({
      task_id: a.task_id,
      assignment_id: a.assignment_id,
      agent_id: a.agent_id,
      agent_role: a.agent_role,
      task_type: a.task_type,
      status: 'dead',
      output: null,
      error: `dead letter: ${d.reason}`,
      started_at: null,
      duration_ms: 0,
      tokens_used: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost_microcents: 0,
      cost_cents: 0,
      provider: '',
      model: '',
      fallbacks: [],
      budget_exceeded: false,
      deliveries: d.deliveries,
      needs_approval: false,
    });
    return r.applied;
  }

  async swarmStatus() {
    const [agents, todo, doing] = await Promise.all([
      this.store.listAgents(),
      this.store.listTasks({ status: 'todo' }),
      this.store.listTasks({ status: 'doing' }),
    ]);
    const now = this.now();
    const byRole: Record<string, { ready: number; busy: number; offline: number; stale: number; load: number }> = {};
    for (const a of agents) {
      const r = byRole[a.role] ?? { ready: 0, busy: 0, offline: 0, stale: 0, load: 0 };
      byRole[a.role] = r;
      r[a.status]++;
      if (a.status !== 'offline' && this.agents.isStale(a, now)) r.stale++;
      r.load += a.load;
    }
    return {
      agents: agents.length,
      by_role: byRole,
      tasks: {
        todo: todo.length,
        doing: doing.length,
        undispatched: doing.filter((t) => t.dispatchedAt === null).length,
      },
      bus: this.bus()?.kind ?? 'none',
    };
  }
}
