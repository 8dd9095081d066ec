import type { NoRoom } from './budget.js';
import type {
  Agent,
  AgentStatus,
  Approval,
  ApprovalStatus,
  Budget,
  CostRecord,
  Execution,
  PipelineRun,
  Project,
  ProviderName,
  RunStatus,
  StepState,
  Task,
  TaskStatus,
} from './model.js';
import type { PeriodKeys } from './periods.js';
import type { Role } from './roles.js';

export interface TaskFilter {
  status?: TaskStatus | undefined;
  projectId?: string | undefined;
  role?: Role | undefined;
  agentId?: string | undefined;
  limit?: number | undefined;
}

export interface AgentFilter {
  role?: Role | undefined;
  status?: AgentStatus | undefined;
}

/** Execution counts of one agent for one task type, split at the recency boundary (7 days). */
export interface ExecStats {
  agentId: string;
  role: Role;
  nRecent: number;
  sRecent: number;
  nOld: number;
  sOld: number;
}

export interface SpendRow {
  period: string;
  /** Settled spend, micro-cents. */
  spent: number;
  /** Held by calls in flight, micro-cents. */
  reserved: number;
  /** Part of `spent` charged at the reserved amount because the process holding it died (not yet reconciled). */
  unsettled: number;
}

export interface Spend {
  month: SpendRow;
  week: SpendRow;
}

export interface ReserveRequest {
  id: string;
  role: Role;
  keys: PeriodKeys;
  /** micro-cents */
  amount: number;
  /** micro-cents; null = unlimited */
  limits: { month: number | null; week: number | null };
  /** The fit rule (core/budget.ts noRoom), run inside the reserving transaction on the fresh spend rows. */
  fits: (spend: Spend, limits: { month: number | null; week: number | null }, amount: number) => NoRoom | undefined;
  now: number;
  /** A reservation not settled by then is treated as orphaned (see `owner`). */
  ttlMs: number;
  /** The runtime holding it (see `heartbeatOwner`). */
  owner: string;
  /** Owners whose last heartbeat is older than this are dead: their reservations are settled as unsettled. */
  ownerStaleBefore: number;
  /** What the money is for, kept for the unsettled cost record if the process dies. */
  meta?: ReservationMeta | undefined;
}

export interface ReservationMeta {
  requestId?: string | undefined;
  taskId?: string | null | undefined;
  taskType?: string | undefined;
  /** `provider:model` */
  target?: string | undefined;
}

/** A process that holds reservations; it heartbeats while alive. */
export interface OwnerRow {
  id: string;
  host: string;
  pid: number;
  lastSeen: number;
}

export const API_ROLES = ['admin', 'operator', 'viewer'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiToken {
  id: string;
  name: string;
  role: ApiRole;
  /** Project ids this token may see; null = every project (and tasks without one). */
  projects: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export type ReserveResult =
  | { ok: true; spend: Spend }
  | { ok: false; period: 'month' | 'week'; limit: number; spent: number; reserved: number };

export interface CostQuery {
  outcome?: string | undefined;
  since?: number | undefined;
  role?: Role | undefined;
  provider?: ProviderName | undefined;
  taskId?: string | undefined;
  limit?: number | undefined;
}

export interface ResultApply {
  taskId: string;
  assignmentId: string;
  status: Extract<TaskStatus, 'done' | 'failed' | 'review' | 'awaiting_approval'>;
  result: unknown;
  error: string | null;
  execution: Execution;
  now: number;
}

export interface AssignRequest {
  taskId: string;
  agentId: string;
  assignmentId: string;
  /** The task must be in one of these columns. */
  from: TaskStatus[];
  now: number;
}

// One interface per aggregate, so a module asks only for the part it uses; `Store` is all of them over one database.

export interface ProjectStore {
  createProject(p: Project): Promise<void>;
  getProject(idOrName: string): Promise<Project | undefined>;
  listProjects(): Promise<Project[]>;
  updateProject(
    id: string,
    patch: Partial<Pick<Project, 'name' | 'description'>>,
    now: number,
  ): Promise<Project | undefined>;
  deleteProject(id: string): Promise<boolean>;
}

export interface TaskStore {
  createTask(t: Task): Promise<void>;
  getTask(id: string): Promise<Task | undefined>;
  listTasks(f?: TaskFilter): Promise<Task[]>;
  /** Compare-and-set on status (and assignment) when `expect` is given; undefined if it did not hold. */
  updateTask(
    id: string,
    patch: Partial<Omit<Task, 'id' | 'createdAt'>>,
    expect?: { status?: TaskStatus[]; assignmentId?: string | null },
  ): Promise<Task | undefined>;
  deleteTask(id: string): Promise<boolean>;
  /** Assignments written but not yet handed to the bus (the outbox). */
  undispatched(limit: number): Promise<Task[]>;
  /**
   * Puts every dispatched, unfinished assignment back in the outbox: an in-process bus lost its messages when its
   * process died, so they are published again (same assignment ids: a result is still applied once).
   */
  requeueDispatched(): Promise<number>;
  /** Tasks in `doing` held by an agent (for reassignment when it goes offline). */
  tasksOfAgent(agentId: string, status: TaskStatus): Promise<Task[]>;
}

export interface AgentStore {
  createAgent(a: Agent): Promise<void>;
  getAgent(id: string): Promise<Agent | undefined>;
  listAgents(f?: AgentFilter): Promise<Agent[]>;
  updateAgent(id: string, patch: Partial<Omit<Agent, 'id' | 'createdAt'>>): Promise<Agent | undefined>;
  deleteAgent(id: string): Promise<boolean>;
  /** Agents not offline whose last heartbeat is older than `before` become offline; returns their ids. */
  markStaleOffline(before: number): Promise<string[]>;
}

/** Assignment and results: the moves that change a task and its agent together, and the execution history. */
export interface AssignmentStore {
  /** Atomically: the task (in one of `from`) goes to `doing` for the agent, whose load grows by 1/capacity. */
  assign(req: AssignRequest): Promise<Task | undefined>;
  /**
   * Atomically and at most once per assignment: records the execution, moves the task, lowers the agent's load.
   * False when the assignment is not the task's current one or was already applied.
   */
  applyResult(r: ResultApply): Promise<boolean>;
  listExecutions(f: { taskId?: string; agentId?: string; taskType?: string; limit?: number }): Promise<Execution[]>;
  executionStats(taskType: string, recentSince: number): Promise<ExecStats[]>;
  /** Every (agent, task type) pair's counts, for expertise listings. */
  allExecutionStats(recentSince: number): Promise<(ExecStats & { taskType: string })[]>;
}

/** Budgets, spend, reservations (with the processes holding them) and cost records. */
/** A budget alert as stored: one per role, period and threshold level crossed. */
export interface BudgetAlertRow {
  id: string;
  role: Role;
  period: string;
  level: string;
  ratio: number;
  now: number;
}

export interface BudgetStore {
  getBudget(role: Role): Promise<Budget | undefined>;
  listBudgets(): Promise<Budget[]>;
  setBudget(b: Budget): Promise<void>;
  spend(role: Role, keys: PeriodKeys): Promise<Spend>;
  /** Admits `amount` only if, for every limited period, spent + reserved + amount <= limit: one transaction. */
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /** Moves a reservation to spent with the real cost, and writes the cost record, in one transaction. */
  settle(reservationId: string | null, cost: CostRecord): Promise<Spend>;
  release(reservationId: string): Promise<boolean>;
  listCosts(q?: CostQuery): Promise<CostRecord[]>;
  /** Orphaned reservations (expired, stale or dead owner) become unsettled cost records at their full amount. */
  settleOrphans(req: { now: number; ownerStaleBefore: number; deadOwners: string[] }): Promise<CostRecord[]>;
  heartbeatOwner(o: OwnerRow): Promise<void>;
  removeOwner(id: string): Promise<void>;
  listOwners(): Promise<OwnerRow[]>;
  /** Replaces an unsettled record's amount with the provider's figure (spend moves by the difference). */
  reconcileCost(id: string, actualMicrocents: number, now: number): Promise<CostRecord | undefined>;

  /** True the first time an alert id is seen (one alert per threshold crossing per period). */
  insertAlert(a: BudgetAlertRow): Promise<boolean>;
}

export interface ApprovalStore {
  createApproval(a: Approval): Promise<void>;
  getApproval(id: string): Promise<Approval | undefined>;
  listApprovals(f?: { status?: ApprovalStatus; taskId?: string; runId?: string }): Promise<Approval[]>;
  /** Decides a pending approval (compare-and-set on `pending`); undefined when it was no longer pending. */
  decideApproval(
    id: string,
    d: { status: Exclude<ApprovalStatus, 'pending'>; decidedBy: string | null; reason: string | null; now: number },
  ): Promise<Approval | undefined>;
}

export interface PipelineStore {
  createRun(run: PipelineRun, steps: StepState[]): Promise<void>;
  getRun(id: string): Promise<PipelineRun | undefined>;
  listRuns(f?: { status?: RunStatus[]; limit?: number }): Promise<PipelineRun[]>;
  /** Compare-and-set on status when `expect` is given. */
  updateRun(
    id: string,
    patch: Partial<Pick<PipelineRun, 'status' | 'error' | 'updatedAt' | 'finishedAt'>>,
    expect?: RunStatus[],
  ): Promise<boolean>;
  listSteps(runId: string): Promise<StepState[]>;
  putStep(s: StepState): Promise<void>;
}

export interface TokenStore {
  createToken(t: ApiToken & { secretHash: string }): Promise<void>;
  getToken(id: string): Promise<(ApiToken & { secretHash: string }) | undefined>;
  listTokens(): Promise<ApiToken[]>;
  revokeToken(id: string, now: number): Promise<boolean>;
}

/**
 * Persistence for vapora, one implementation over SQL (SQLite, PostgreSQL), same tests against both.
 * Every method that changes more than one row is one transaction.
 */
export interface Store
  extends ProjectStore,
    TaskStore,
    AgentStore,
    AssignmentStore,
    BudgetStore,
    ApprovalStore,
    PipelineStore,
    TokenStore {
  readonly backend: 'sqlite' | 'postgresql';
  /** Applies pending migrations; returns the schema version. */
  migrate(): Promise<number>;
  close(): Promise<void>;
  /** Changes whenever tasks, approvals, runs, steps or spend change (for pushing live updates). */
  changeStamp(): Promise<string>;
}
