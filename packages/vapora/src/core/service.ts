import { notFoundError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import { Agents } from './agents.js';
import { type AlertOutcome, AlertTriggers, alertInput } from './alerts.js';
import { ApprovalDesk, type ApprovalSettings, DEFAULT_APPROVALS } from './approvals.js';
import { type Caller, inScope } from './auth.js';
import type { BudgetLedger } from './budget.js';
import type { Bus } from './bus.js';
import { type MetricsSink, noMetrics } from './metrics.js';
import type { Approval } from './model.js';
import { parse } from './parse.js';
import { PipelineLibrary } from './pipeline.js';
import { PipelineRunner } from './pipeline-runner.js';
import { Projects } from './projects.js';
import type { LlmRouter } from './router.js';
import { Spending } from './spend.js';
import type { Store } from './store.js';
import { Swarm } from './swarm.js';
import { Tasks } from './tasks.js';
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

export { agentRoute } from './agents.js';
export type { AssignOutcome } from './swarm.js';

/**
 * Everything commands and the HTTP API do, over a Store, a budget ledger, the router and (optionally) a bus: one
 * object wiring the sections, each its own module (projects.ts, tasks.ts, agents.ts, swarm.ts for assignment,
 * spend.ts for budgets and costs, tokens.ts, approvals.ts, pipeline-runner.ts), plus who may decide what.
 */
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
  readonly alerts: AlertTriggers;
  readonly tokens: TokenRegistry;
  readonly spending: Spending;
  readonly projects: Projects;
  readonly tasks: Tasks;
  readonly agents: Agents;
  readonly swarm: Swarm;

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
    this.projects = new Projects(this.store, this.now);
    this.tasks = new Tasks(this.store, this.projects, this.now);
    this.agents = new Agents(this.store, this.router, this.now, this.heartbeatTimeoutMs);
    this.swarm = new Swarm(this.store, this.tasks, this.agents, this.approvals, {
      bus: () => this.bus,
      metrics: this.metrics,
      now: this.now,
      onRunTaskFinished: (task) => this.pipelines.onTaskFinished(task),
    });
    this.approvals.on('run', (a, outcome, by) => this.onTaskDecision(a, outcome, by));
    const library = new PipelineLibrary(o.pipelinesDir);
    this.pipelines = new PipelineRunner(this, library);
    this.alerts = new AlertTriggers(this.pipelines, library, () => this.bus);
    this.tokens = new TokenRegistry(this.store, this.now, async (p) => (await this.projects.getProject(p)).id);
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

  /** An alert from a person or a script: published, and the pipelines it triggers started. */
  raiseAlert(input: unknown, caller?: Caller): Promise<AlertOutcome> {
    return this.alerts.raise(parse(alertInput, input, 'alert'), caller);
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

  // ---- the sections are their own modules, reached through the same object ----

  createProject: Projects['createProject'] = (...a) => this.projects.createProject(...a);
  listProjects: Projects['listProjects'] = (...a) => this.projects.listProjects(...a);
  getProject: Projects['getProject'] = (...a) => this.projects.getProject(...a);
  updateProject: Projects['updateProject'] = (...a) => this.projects.updateProject(...a);
  deleteProject: Projects['deleteProject'] = (...a) => this.projects.deleteProject(...a);

  createTask: Tasks['createTask'] = (...a) => this.tasks.createTask(...a);
  getTask: Tasks['getTask'] = (...a) => this.tasks.getTask(...a);
  taskDetail: Tasks['taskDetail'] = (...a) => this.tasks.taskDetail(...a);
  listTasks: Tasks['listTasks'] = (...a) => this.tasks.listTasks(...a);
  updateTask: Tasks['updateTask'] = (...a) => this.tasks.updateTask(...a);
  deleteTask: Tasks['deleteTask'] = (...a) => this.tasks.deleteTask(...a);

  addAgent: Agents['addAgent'] = (...a) => this.agents.addAgent(...a);
  getAgent: Agents['getAgent'] = (...a) => this.agents.getAgent(...a);
  isStale: Agents['isStale'] = (...a) => this.agents.isStale(...a);
  listAgents: Agents['listAgents'] = (...a) => this.agents.listAgents(...a);
  agentHealth: Agents['agentHealth'] = (...a) => this.agents.agentHealth(...a);
  heartbeat: Agents['heartbeat'] = (...a) => this.agents.heartbeat(...a);
  applyHeartbeat: Agents['applyHeartbeat'] = (...a) => this.agents.applyHeartbeat(...a);
  expertise: Agents['expertise'] = (...a) => this.agents.expertise(...a);

  rank: Swarm['rank'] = (...a) => this.swarm.rank(...a);
  assign: Swarm['assign'] = (...a) => this.swarm.assign(...a);
  assignmentOf: Swarm['assignmentOf'] = (...a) => this.swarm.assignmentOf(...a);
  dispatch: Swarm['dispatch'] = (...a) => this.swarm.dispatch(...a);
  dispatchPending: Swarm['dispatchPending'] = (...a) => this.swarm.dispatchPending(...a);
  sweepStale: Swarm['sweepStale'] = (...a) => this.swarm.sweepStale(...a);
  applyResult: Swarm['applyResult'] = (...a) => this.swarm.applyResult(...a);
  applyDeadLetter: Swarm['applyDeadLetter'] = (...a) => this.swarm.applyDeadLetter(...a);
  swarmStatus: Swarm['swarmStatus'] = (...a) => this.swarm.swarmStatus(...a);

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
