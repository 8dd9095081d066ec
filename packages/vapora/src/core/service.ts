import {
  conflictError,
  deniedError,
  notFoundError,
  unavailableError,
  validationError,
} from '@stratumiops/shared/errors';
import { z } from 'zod';
import { ApprovalDesk, type ApprovalSettings, DEFAULT_APPROVALS } from './approvals.js';
import { type Candidate, confidence, RECENT_MS, rankAgents, weightedSuccess } from './assignment.js';
import { type Caller, inScope } from './auth.js';
import type { BudgetLedger } from './budget.js';
import type { Bus, DeadLetter, Heartbeat, TaskAssignment, TaskResult } from './bus.js';
import { parseCommandTemplate } from './exec-template.js';
import { shortId, uuid } from './ids.js';
import { type MetricsSink, noMetrics } from './metrics.js';
import {
  AGENT_STATUSES,
  type Agent,
  type Approval,
  agentInput,
  type Execution,
  heartbeatInput,
  microToCents,
  type Outcome,
  type Project,
  type ProviderName,
  projectInput,
  projectPatch,
  roleSchema,
  TASK_STATUSES,
  type Task,
  type TaskStatus,
  taskInput,
  taskPatch,
} from './model.js';
import { parse } from './parse.js';
import { PipelineLibrary } from './pipeline.js';
import { PipelineRunner } from './pipeline-runner.js';
import { ROLES, type Role } from './roles.js';
import { type LlmRouter, type Route, roleDefaultRoute } from './router.js';
import { Spending } from './spend.js';
import type { Store } from './store.js';
import { TokenRegistry } from './tokens.js';

const runInput = z.strictObject({
  project: z.string().min(1).optional(),
  inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
const decisionInput = z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() });

export interface ServiceOptions {
  store: Store;
  ledger: BudgetLedger;
  router: LlmRouter;
  bus?: Bus | undefined;
  heartbeatTimeoutMs: number;
  metrics?: MetricsSink | undefined;
  now?: () => number;
  approvals?: ApprovalSettings | undefined;
  /** Where pipeline definitions (`<name>.toml`) are. */
  pipelinesDir?: string | undefined;
}

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

/** The agent's own route: its provider/model, pinned for exec commands. */
export function agentRoute(a: Pick<Agent, 'id' | 'role' | 'provider' | 'model'>): Route {
  if (a.provider === 'exec') {
    return { source: `agent ${a.id}`, primary: { provider: 'exec', model: a.model }, fallback: [], pinned: true };
  }
  return {
    source: `agent ${a.id}`,
    primary: { provider: a.provider, model: a.model },
    fallback: roleDefaultRoute(a.role).fallback,
  };
}

/** Everything commands and the HTTP API do, over a Store, a budget ledger, the router and (optionally) a bus. */
export class VaporaService {
  readonly store: Store;
  readonly ledger: BudgetLedger;
  readonly router: LlmRouter;
  bus: Bus | undefined;
  readonly heartbeatTimeoutMs: number;
  readonly metrics: MetricsSink;
  readonly now: () => number;
  readonly approvals: ApprovalDesk;
  readonly pipelines: PipelineRunner;
  readonly tokens: TokenRegistry;
  readonly spending: Spending;

  constructor(o: ServiceOptions) {
    this.store = o.store;
    this.ledger = o.ledger;
    this.router = o.router;
    this.bus = o.bus;
    this.heartbeatTimeoutMs = o.heartbeatTimeoutMs;
    this.metrics = o.metrics ?? noMetrics;
    this.now = o.now ?? Date.now;
    this.approvals = new ApprovalDesk(this.store, o.approvals ?? DEFAULT_APPROVALS, {
      bus: () => this.bus,
      now: this.now,
    });
    this.approvals.on('run', (a, outcome, by) => this.onTaskDecision(a, outcome, by));
    this.pipelines = new PipelineRunner(this, new PipelineLibrary(o.pipelinesDir));
    this.tokens = new TokenRegistry(this.store, this.now, async (p) => (await this.getProject(p)).id);
    this.spending = new Spending(this.store, this.ledger, this.router, this.metrics, this.now);
    this.approvals.on('budget', async (a, outcome, by) => {
      if (outcome === 'approved' && a.taskId) await this.store.updateTask(a.taskId, { overBudgetApproved: true });
      await this.onTaskDecision(a, outcome, by);
    });
  }

  /** An approved task runs now; a rejected (or timed out) one fails with who and why. */
  private async onTaskDecision(a: Approval, outcome: 'approved' | 'rejected', by: string): Promise<void> {
    if (!a.taskId) return;
    if (outcome === 'approved') {
      await this.assign(a.taskId, { approved: true });
      return;
    }
    const why = a.status === 'expired' ? 'approval timed out' : `rejected by ${by}${a.reason ? `: ${a.reason}` : ''}`;
    await this.store.updateTask(
      a.taskId,
      { status: 'failed', error: why, finishedAt: this.now(), updatedAt: this.now() },
      { status: ['awaiting_approval'] },
    );
  }

  // ---- pipelines ----

  /** `inputs` from `--input k=v` (strings) or a JSON body. */
  startPipeline(name: string, input: unknown, caller?: Caller) {
    const b = parse(runInput, input, 'pipeline run');
    return this.pipelines.start(name, { project: b.project, inputs: b.inputs }, caller);
  }

  listPipelines(caller?: Caller) {
    return this.pipelines.list(caller);
  }

  async showPipeline(name: string) {
    return this.pipelines.show(name);
  }

  pipelineStatus(runId: string, caller?: Caller) {
    return this.pipelines.view(runId, caller);
  }

  cancelRun(runId: string, caller?: Caller) {
    return this.pipelines.cancel(runId, caller);
  }

  resumeRun(runId: string, caller?: Caller) {
    return this.pipelines.resume(runId, caller);
  }

  // ---- approvals ----

  /** What waits for a decision (pending), or every request with `all`. */
  async listApprovals(o: { all?: boolean } = {}, caller?: Caller): Promise<Approval[]> {
    const list = await this.approvals.list(o.all ? undefined : 'pending');
    if (!caller || caller.projects === null) return list;
    const visible: Approval[] = [];
    for (const a of list) {
      const t = a.taskId ? await this.store.getTask(a.taskId) : undefined;
      if (t && inScope(caller, t.projectId)) visible.push(a);
    }
    return visible;
  }

  async approve(ref: string, input: unknown, caller?: Caller): Promise<Approval> {
    const { reason } = parse(decisionInput, input, 'approval');
    await this.visibleApproval(ref, caller);
    return this.approvals.decide(ref, 'approved', reason ?? null, caller);
  }

  async reject(ref: string, input: unknown, caller?: Caller): Promise<Approval> {
    const { reason } = parse(decisionInput, input, 'rejection');
    await this.visibleApproval(ref, caller);
    return this.approvals.decide(ref, 'rejected', reason ?? null, caller);
  }

  private async visibleApproval(ref: string, caller?: Caller): Promise<void> {
    const a = await this.approvals.find(ref);
    if (!caller || caller.projects === null) return;
    // A project-scoped token decides only what belongs to its projects (a pipeline gate through its run).
    if (a.taskId) await this.getTask(a.taskId, caller);
    else if (a.runId) await this.pipelines.getRun(a.runId, caller);
    else throw notFoundError(`nothing waits for approval under '${ref}'`);
  }

  // ---- projects ----

  async createProject(input: unknown, caller?: Caller): Promise<Project> {
    const p = parse(projectInput, input, 'project');
    if (caller && caller.projects !== null) {
      throw deniedError('a token scoped to projects cannot create projects', { hint: 'ask an admin' });
    }
    const now = this.now();
    const project: Project = {
      id: shortId('p', 6),
      name: p.name,
      description: p.description,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.createProject(project);
    return project;
  }

  async listProjects(caller?: Caller): Promise<Project[]> {
    return (await this.store.listProjects()).filter((p) => inScope(caller, p.id));
  }

  async getProject(idOrName: string, caller?: Caller): Promise<Project> {
    const p = await this.store.getProject(idOrName);
    if (!p || !inScope(caller, p.id))
      throw notFoundError(`no project '${idOrName}'`, { hint: "see 'vapora project list'" });
    return p;
  }

  async updateProject(idOrName: string, input: unknown, caller?: Caller): Promise<Project> {
    const patch = parse(projectPatch, input, 'project');
    const p = await this.getProject(idOrName, caller);
    const out = await this.store.updateProject(p.id, patch, this.now());
    if (!out) throw notFoundError(`no project '${idOrName}'`);
    return out;
  }

  async deleteProject(idOrName: string, caller?: Caller): Promise<Project> {
    const p = await this.getProject(idOrName, caller);
    await this.store.deleteProject(p.id);
    return p;
  }

  // ---- tasks ----

  async createTask(input: unknown, caller?: Caller): Promise<Task> {
    const t = parse(taskInput, input, 'task');
    if (!t.project && caller && caller.projects !== null)
      throw validationError('this token is scoped to projects: the task needs a project', { hint: 'pass project' });
    const project = t.project ? await this.getProject(t.project, caller) : undefined;
    const now = this.now();
    const task: Task = {
      id: shortId('t'),
      projectId: project?.id ?? null,
      title: t.title,
      description: t.description,
      type: t.type,
      role: t.role ?? null,
      priority: t.priority,
      status: 'todo',
      payload: t.payload,
      result: null,
      error: null,
      agentId: null,
      assignmentId: null,
      attempt: 0,
      dispatchedAt: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
    };
    await this.store.createTask(task);
    return task;
  }

  async getTask(id: string, caller?: Caller): Promise<Task> {
    const t = await this.store.getTask(id);
    if (!t || !inScope(caller, t.projectId)) throw notFoundError(`no task '${id}'`, { hint: "see 'vapora task list'" });
    return t;
  }

  async taskDetail(
    id: string,
    caller?: Caller,
  ): Promise<{ task: Task; executions: Execution[]; costs: { calls: number; cost_cents: number; tokens: number } }> {
    const task = await this.getTask(id, caller);
    const [executions, costs] = await Promise.all([
      this.store.listExecutions({ taskId: id }),
      this.store.listCosts({ taskId: id }),
    ]);
    return {
      task,
      executions,
      costs: {
        calls: costs.length,
        cost_cents: microToCents(costs.reduce((s, c) => s + c.costMicrocents, 0)),
        tokens: costs.reduce((s, c) => s + c.inputTokens + c.outputTokens, 0),
      },
    };
  }

  async listTasks(
    f: { status?: string; project?: string; role?: string; agent?: string } = {},
    caller?: Caller,
  ): Promise<Task[]> {
    const filter = parse(
      z.object({ status: z.enum(TASK_STATUSES).optional(), role: roleSchema.optional() }),
      { status: f.status, role: f.role },
      'filter',
    );
    const project = f.project ? await this.getProject(f.project, caller) : undefined;
    const tasks = await this.store.listTasks({
      status: filter.status,
      role: filter.role ?? undefined,
      projectId: project?.id,
      agentId: f.agent,
    });
    return tasks.filter((t) => inScope(caller, t.projectId));
  }

  async updateTask(id: string, input: unknown, caller?: Caller): Promise<Task> {
    const patch = parse(taskPatch, input, 'task update');
    const task = await this.getTask(id, caller);
    if (patch.status === 'doing' && task.status !== 'doing') {
      throw validationError("a task enters 'doing' by being assigned", { hint: `vapora task assign ${id}` });
    }
    const leavingDoing = patch.status !== undefined && patch.status !== 'doing' && task.status === 'doing';
    const out = await this.store.updateTask(
      id,
      {
        ...patch,
        role: patch.role === undefined ? undefined : patch.role,
        // Moving a task out of `doing` by hand retires its assignment: a late result is ignored.
        ...(leavingDoing ? { assignmentId: null, finishedAt: this.now() } : {}),
        updatedAt: this.now(),
      },
      { status: [task.status] },
    );
    if (!out) throw conflictError(`task '${id}' changed meanwhile; try again`);
    if (leavingDoing && task.agentId) await this.lowerLoad(task.agentId);
    return out;
  }

  private async lowerLoad(agentId: string): Promise<void> {
    const a = await this.store.getAgent(agentId);
    if (a) await this.store.updateAgent(agentId, { load: Math.max(0, a.load - 1 / Math.max(1, a.capacity)) });
  }

  async deleteTask(id: string, caller?: Caller): Promise<Task> {
    const t = await this.getTask(id, caller);
    await this.store.deleteTask(id);
    return t;
  }

  // ---- agents ----

  /** Registers an agent; `warnings` names what will stop it from working here (a missing API key). */
  async addAgent(input: unknown): Promise<Agent & { warnings?: string[] }> {
    const a = parse(agentInput, input, 'agent');
    const provider: ProviderName = a.provider ?? (a.command ? 'exec' : roleDefaultRoute(a.role).primary.provider);
    let model = provider === 'exec' ? (a.command ?? a.model) : a.model;
    if (!model) {
      const def = roleDefaultRoute(a.role).primary;
      if (def.provider !== provider) {
        throw validationError(`--model is needed for a ${provider} agent (the ${a.role} default is ${def.provider})`);
      }
      model = def.model;
    }
    // Split once, here: a template that would let task data become code is refused before it is stored.
    if (provider === 'exec') parseCommandTemplate(model as string);
    if (provider !== 'exec' && !this.router.o.prices.get(provider, model)) {
      throw validationError(`model '${model}' of ${provider} has no price entry`, {
        hint: 'add [[prices]] to vapora.toml (input = 0, output = 0 for a local model): unpriced models are refused',
      });
    }
    const now = this.now();
    const agent: Agent = {
      id: a.id ?? shortId(a.role, 4),
      role: a.role,
      provider,
      model: model as string,
      status: 'ready',
      load: 0,
      capacity: a.capacity,
      // Registration counts as a first heartbeat: the agent is eligible until heartbeat_timeout passes.
      lastHeartbeat: now,
      createdAt: now,
    };
    await this.store.createAgent(agent);
    // A worker on another machine may have the key: say it, do not refuse.
    const problem = this.router.o.credentialProblem?.(provider);
    return problem
      ? { ...agent, warnings: [`${problem} (needed on the machine that runs this agent's tasks)`] }
      : agent;
  }

  async getAgent(id: string): Promise<Agent> {
    const a = await this.store.getAgent(id);
    if (!a) throw notFoundError(`no agent '${id}'`, { hint: "see 'vapora agent list'" });
    return a;
  }

  isStale(a: Agent, now = this.now()): boolean {
    return a.lastHeartbeat === null || now - a.lastHeartbeat > this.heartbeatTimeoutMs;
  }

  async listAgents(f: { role?: string; status?: string } = {}): Promise<(Agent & { stale: boolean })[]> {
    const filter = parse(
      z.object({ role: roleSchema.optional(), status: z.enum(AGENT_STATUSES).optional() }),
      f,
      'filter',
    );
    const agents = await this.store.listAgents(filter);
    const now = this.now();
    return agents.map((a) => ({ ...a, stale: this.isStale(a, now) }));
  }

  async agentHealth(id: string) {
    const a = await this.getAgent(id);
    const now = this.now();
    const stale = this.isStale(a, now);
    const [doing, executions] = await Promise.all([
      this.store.tasksOfAgent(id, 'doing'),
      this.store.listExecutions({ agentId: id, limit: 1000 }),
    ]);
    const tried = executions.filter((e) => e.outcome !== 'refused');
    const ok = tried.filter((e) => e.outcome === 'success').length;
    return {
      agent: a,
      healthy: a.status !== 'offline' && !stale,
      stale,
      heartbeat_age_s: a.lastHeartbeat === null ? null : Math.round((now - a.lastHeartbeat) / 1000),
      heartbeat_timeout_s: Math.round(this.heartbeatTimeoutMs / 1000),
      current_tasks: doing.map((t) => t.id),
      executions: {
        total: tried.length,
        success: ok,
        refused_by_budget: executions.length - tried.length,
        success_rate: tried.length ? ok / tried.length : null,
      },
    };
  }

  async heartbeat(id: string, input: unknown): Promise<Agent> {
    const h = parse(heartbeatInput, input, 'heartbeat');
    await this.getAgent(id);
    const out = await this.store.updateAgent(id, {
      status: h.status,
      ...(h.load !== undefined ? { load: h.load } : {}),
      lastHeartbeat: this.now(),
    });
    return out as Agent;
  }

  /** A heartbeat from the bus: unknown agents are ignored (a worker registers through the store first). */
  async applyHeartbeat(h: Heartbeat): Promise<void> {
    const a = await this.store.getAgent(h.agent_id);
    if (!a) return;
    await this.store.updateAgent(h.agent_id, { status: h.status, load: h.current_load, lastHeartbeat: this.now() });
  }

  /** Expertise profiles of a role or of one agent, per task type. */
  async expertise(roleOrAgent?: string) {
    const stats = await this.store.allExecutionStats(this.now() - RECENT_MS);
    const isRole = roleOrAgent !== undefined && (ROLES as readonly string[]).includes(roleOrAgent);
    if (roleOrAgent !== undefined && !isRole) await this.getAgent(roleOrAgent);
    return stats
      .filter((s) => roleOrAgent === undefined || (isRole ? s.role === roleOrAgent : s.agentId === roleOrAgent))
      .map((s) => {
        const n = s.nRecent + s.nOld;
        return {
          agent_id: s.agentId,
          role: s.role,
          task_type: s.taskType,
          executions: n,
          recent: s.nRecent,
          success_rate: n ? (s.sRecent + s.sOld) / n : 0,
          expertise: weightedSuccess(s) ?? 0,
          confidence: confidence(n),
        };
      });
  }

  // ---- assignment ----

  async rank(task: Task, role?: Role | null) {
    const agents = await this.store.listAgents(role ? { role } : {});
    const stats = await this.store.executionStats(task.type, this.now() - RECENT_MS);
    return rankAgents(agents, stats, { role, now: this.now(), heartbeatTimeoutMs: this.heartbeatTimeoutMs });
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
    const task = await this.getTask(taskId, caller);
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
        await this.getAgent(o.agentId);
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
    const agentRole = role ?? (await this.getAgent(chosen.agentId)).role;
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
    const agent = await this.getAgent(task.agentId as string);
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
    if (!this.bus || !task.assignmentId || !task.agentId) return false;
    await this.bus.publishAssignment(await this.assignmentOf(task));
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
    const offline = await this.store.markStaleOffline(this.now() - this.heartbeatTimeoutMs);
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
    if (applied && task.runId) await this.pipelines.onTaskFinished(task);
    if (applied) {
      this.metrics.taskFinished(r.agent_role, r.status, r.duration_ms / 1000);
      if (r.provider) {
        this.metrics.llmUsage(r.agent_role, r.provider, r.cost_cents, r.input_tokens, r.output_tokens);
      }
      for (const f of r.fallbacks) this.metrics.fallback(r.agent_role, f.to.split(':')[0] ?? '', f.reason);
      if (r.budget_exceeded) this.metrics.budgetExceeded(r.agent_role);
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
      if (a.status !== 'offline' && this.isStale(a, now)) r.stale++;
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
      bus: this.bus?.kind ?? 'none',
    };
  }

  // ---- API tokens, spending: their own modules, reached through the same object ----

  createToken = (input: unknown) => this.tokens.create(input);
  listTokens = () => this.tokens.list();
  revokeToken = (id: string) => this.tokens.revoke(id);
  authenticate = (bearer: string) => this.tokens.authenticate(bearer);
  route = (taskType: string, role: string, o: { maxTokens?: number; prompt?: string } = {}) =>
    this.spending.route(taskType, role, o);
  callLlm = (taskType: string, role: string, o: { prompt: string; maxTokens?: number | undefined }) =>
    this.spending.callLlm(taskType, role, o);
  setBudget = (role: string, input: unknown) => this.spending.setBudget(role, input);
  budgets = (role?: string) => this.spending.budgets(role);
  reconcileCost = (id: string, input: unknown) => this.spending.reconcileCost(id, input);
  unsettledCosts = () => this.spending.unsettledCosts();
  costs = (o: { by?: string; since?: number; role?: string; provider?: string } = {}) => this.spending.costs(o);
  limitedBudgets = () => this.spending.limitedBudgets();
}
