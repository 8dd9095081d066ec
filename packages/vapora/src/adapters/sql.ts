import { conflictError } from '@stratumiops/shared/errors';
import { migrate, type Row, type SqlDriver, type SqlQueryer } from '@stratumiops/shared/sql/driver';
import type {
  Agent,
  AgentStatus,
  Approval,
  ApprovalStatus,
  Budget,
  CostRecord,
  Execution,
  OnExceeded,
  Outcome,
  PipelineRun,
  Project,
  ProviderName,
  RunStatus,
  StepState,
  Task,
  TaskStatus,
} from '../core/model.js';
import { priorityName, priorityValue } from '../core/model.js';
import type { PeriodKeys } from '../core/periods.js';
import type { Role } from '../core/roles.js';
import type {
  AgentFilter,
  ApiRole,
  ApiToken,
  AssignRequest,
  CostQuery,
  ExecStats,
  ReserveRequest,
  ReserveResult,
  ResultApply,
  Spend,
  SpendRow,
  Store,
  TaskFilter,
} from '../core/store.js';

/** Same DDL on both: TEXT ids, BIGINT epoch milliseconds and micro-cents, JSON as TEXT. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY, project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
    title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', type TEXT NOT NULL, role TEXT,
    priority INTEGER NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL, result TEXT, error TEXT,
    agent_id TEXT, assignment_id TEXT, attempt INTEGER NOT NULL DEFAULT 0, dispatched_at BIGINT,
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT);
  CREATE INDEX tasks_status ON tasks(status, priority);
  CREATE INDEX tasks_project ON tasks(project_id);
  CREATE INDEX tasks_agent ON tasks(agent_id, status);
  CREATE TABLE agents (
    id TEXT PRIMARY KEY, role TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
    load DOUBLE PRECISION NOT NULL DEFAULT 0, capacity INTEGER NOT NULL DEFAULT 1, last_heartbeat BIGINT,
    created_at BIGINT NOT NULL);
  CREATE INDEX agents_role ON agents(role);
  CREATE TABLE executions (
    id TEXT PRIMARY KEY, task_id TEXT NOT NULL, agent_id TEXT NOT NULL, role TEXT NOT NULL, task_type TEXT NOT NULL,
    assignment_id TEXT NOT NULL UNIQUE, started_at BIGINT, finished_at BIGINT NOT NULL, duration_ms BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL DEFAULT 0, output_tokens BIGINT NOT NULL DEFAULT 0,
    cost_microcents BIGINT NOT NULL DEFAULT 0, outcome TEXT NOT NULL, error TEXT);
  CREATE INDEX executions_type ON executions(task_type, agent_id);
  CREATE INDEX executions_task ON executions(task_id);
  CREATE TABLE budgets (
    role TEXT PRIMARY KEY, monthly_microcents BIGINT, weekly_microcents BIGINT, on_exceeded TEXT,
    updated_at BIGINT NOT NULL);
  CREATE TABLE budget_spend (
    role TEXT NOT NULL, period TEXT NOT NULL, spent BIGINT NOT NULL DEFAULT 0, reserved BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (role, period));
  CREATE TABLE reservations (
    id TEXT PRIMARY KEY, role TEXT NOT NULL, month_key TEXT NOT NULL, week_key TEXT NOT NULL,
    amount BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
  CREATE INDEX reservations_role ON reservations(role, expires_at);
  CREATE TABLE cost_records (
    id TEXT PRIMARY KEY, request_id TEXT NOT NULL, task_id TEXT, role TEXT NOT NULL, task_type TEXT NOT NULL,
    provider TEXT NOT NULL, model TEXT NOT NULL, served_model TEXT NOT NULL,
    input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL, cost_microcents BIGINT NOT NULL, price_version TEXT NOT NULL,
    outcome TEXT NOT NULL, fallback_from TEXT, month_key TEXT NOT NULL, week_key TEXT NOT NULL,
    created_at BIGINT NOT NULL);
  CREATE INDEX cost_records_created ON cost_records(created_at);
  CREATE INDEX cost_records_task ON cost_records(task_id);
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY, role TEXT NOT NULL, period TEXT NOT NULL, level TEXT NOT NULL,
    ratio DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL);
  `,
  // API tokens (secrets stored as SHA-256), and reservations that know their process: a reservation whose process
  // died is settled at its full amount (marked unsettled), never silently given back.
  `
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, projects TEXT, secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT);
  CREATE TABLE runtimes (
    id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, last_seen BIGINT NOT NULL);
  ALTER TABLE reservations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
  ALTER TABLE reservations ADD COLUMN request_id TEXT;
  ALTER TABLE reservations ADD COLUMN task_id TEXT;
  ALTER TABLE reservations ADD COLUMN task_type TEXT;
  ALTER TABLE reservations ADD COLUMN target TEXT;
  ALTER TABLE cost_records ADD COLUMN reconciled_at BIGINT;
  CREATE INDEX cost_records_outcome ON cost_records(outcome, role);
  `,
  // Approvals (who asked, who decided, when, why) and pipelines (runs and their steps, checkpointed).
  `
  CREATE TABLE approvals (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, task_id TEXT, run_id TEXT, step_id TEXT, role TEXT NOT NULL,
    action TEXT NOT NULL, details TEXT NOT NULL, status TEXT NOT NULL, requested_by TEXT, requested_at BIGINT NOT NULL,
    expires_at BIGINT, decided_by TEXT, decided_at BIGINT, reason TEXT);
  CREATE INDEX approvals_status ON approvals(status, requested_at);
  ALTER TABLE tasks ADD COLUMN run_id TEXT;
  ALTER TABLE tasks ADD COLUMN step_id TEXT;
  ALTER TABLE tasks ADD COLUMN over_budget_approved INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX tasks_run ON tasks(run_id);
  CREATE TABLE pipeline_runs (
    id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, definition TEXT NOT NULL, project_id TEXT, inputs TEXT NOT NULL,
    status TEXT NOT NULL, error TEXT, created_by TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    finished_at BIGINT);
  CREATE INDEX pipeline_runs_status ON pipeline_runs(status);
  CREATE TABLE pipeline_steps (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, phase TEXT NOT NULL, status TEXT NOT NULL, task_id TEXT,
    output TEXT, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, started_at BIGINT, finished_at BIGINT,
    PRIMARY KEY (run_id, step_id, phase));
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const parseJson = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(String(v)));

function toProject(r: Row): Project {
  return {
    id: str(r.id),
    name: str(r.name),
    description: str(r.description),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function toTask(r: Row): Task {
  return {
    id: str(r.id),
    projectId: strOrNull(r.project_id),
    title: str(r.title),
    description: str(r.description),
    type: str(r.type),
    role: strOrNull(r.role) as Role | null,
    priority: priorityName(num(r.priority)),
    status: str(r.status) as TaskStatus,
    payload: (parseJson(r.payload) ?? {}) as Record<string, unknown>,
    result: parseJson(r.result),
    error: strOrNull(r.error),
    agentId: strOrNull(r.agent_id),
    assignmentId: strOrNull(r.assignment_id),
    attempt: num(r.attempt),
    dispatchedAt: numOrNull(r.dispatched_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
    runId: strOrNull(r.run_id),
    stepId: strOrNull(r.step_id),
    overBudgetApproved: num(r.over_budget_approved) === 1,
  };
}

function toApproval(r: Row): Approval {
  return {
    id: str(r.id),
    kind: str(r.kind) as Approval['kind'],
    taskId: strOrNull(r.task_id),
    runId: strOrNull(r.run_id),
    stepId: strOrNull(r.step_id),
    role: str(r.role) as Role,
    action: str(r.action),
    details: (parseJson(r.details) ?? {}) as Record<string, unknown>,
    status: str(r.status) as ApprovalStatus,
    requestedBy: strOrNull(r.requested_by),
    requestedAt: num(r.requested_at),
    expiresAt: numOrNull(r.expires_at),
    decidedBy: strOrNull(r.decided_by),
    decidedAt: numOrNull(r.decided_at),
    reason: strOrNull(r.reason),
  };
}

function toRun(r: Row): PipelineRun {
  return {
    id: str(r.id),
    pipeline: str(r.pipeline),
    definition: parseJson(r.definition),
    projectId: strOrNull(r.project_id),
    inputs: (parseJson(r.inputs) ?? {}) as Record<string, unknown>,
    status: str(r.status) as RunStatus,
    error: strOrNull(r.error),
    createdBy: strOrNull(r.created_by),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

function toStep(r: Row): StepState {
  return {
    runId: str(r.run_id),
    stepId: str(r.step_id),
    phase: str(r.phase) as StepState['phase'],
    status: str(r.status) as StepState['status'],
    taskId: strOrNull(r.task_id),
    output: parseJson(r.output),
    attempts: num(r.attempts),
    error: strOrNull(r.error),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

function toAgent(r: Row): Agent {
  return {
    id: str(r.id),
    role: str(r.role) as Role,
    provider: str(r.provider) as ProviderName,
    model: str(r.model),
    status: str(r.status) as AgentStatus,
    load: num(r.load),
    capacity: num(r.capacity),
    lastHeartbeat: numOrNull(r.last_heartbeat),
    createdAt: num(r.created_at),
  };
}

function toExecution(r: Row): Execution {
  return {
    id: str(r.id),
    taskId: str(r.task_id),
    agentId: str(r.agent_id),
    role: str(r.role) as Role,
    taskType: str(r.task_type),
    assignmentId: str(r.assignment_id),
    startedAt: numOrNull(r.started_at),
    finishedAt: num(r.finished_at),
    durationMs: num(r.duration_ms),
    inputTokens: num(r.input_tokens),
    outputTokens: num(r.output_tokens),
    costMicrocents: num(r.cost_microcents),
    outcome: str(r.outcome) as Outcome,
    error: strOrNull(r.error),
  };
}

function toCost(r: Row): CostRecord {
  return {
    id: str(r.id),
    requestId: str(r.request_id),
    taskId: strOrNull(r.task_id),
    role: str(r.role) as Role,
    taskType: str(r.task_type),
    provider: str(r.provider) as ProviderName,
    model: str(r.model),
    servedModel: str(r.served_model),
    inputTokens: num(r.input_tokens),
    outputTokens: num(r.output_tokens),
    cacheReadTokens: num(r.cache_read_tokens),
    cacheWriteTokens: num(r.cache_write_tokens),
    costMicrocents: num(r.cost_microcents),
    priceVersion: str(r.price_version),
    outcome: str(r.outcome),
    fallbackFrom: strOrNull(r.fallback_from),
    monthKey: str(r.month_key),
    weekKey: str(r.week_key),
    createdAt: num(r.created_at),
  };
}

function toToken(r: Row): ApiToken {
  return {
    id: str(r.id),
    name: str(r.name),
    role: str(r.role) as ApiRole,
    projects: r.projects === null || r.projects === undefined ? null : (JSON.parse(String(r.projects)) as string[]),
    createdAt: num(r.created_at),
    expiresAt: numOrNull(r.expires_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}

function toBudget(r: Row): Budget {
  return {
    role: str(r.role) as Role,
    monthlyMicrocents: numOrNull(r.monthly_microcents),
    weeklyMicrocents: numOrNull(r.weekly_microcents),
    onExceeded: strOrNull(r.on_exceeded) as OnExceeded | null,
    updatedAt: num(r.updated_at),
  };
}

/** Task fields → columns, with their encoders. */
const TASK_COLUMNS: Record<string, [string, (v: unknown) => unknown]> = {
  projectId: ['project_id', (v) => v],
  title: ['title', (v) => v],
  description: ['description', (v) => v],
  type: ['type', (v) => v],
  role: ['role', (v) => v],
  priority: ['priority', (v) => priorityValue(v as Task['priority'])],
  status: ['status', (v) => v],
  payload: ['payload', (v) => JSON.stringify(v ?? {})],
  result: ['result', (v) => (v === undefined || v === null ? null : JSON.stringify(v))],
  error: ['error', (v) => v],
  agentId: ['agent_id', (v) => v],
  assignmentId: ['assignment_id', (v) => v],
  attempt: ['attempt', (v) => v],
  dispatchedAt: ['dispatched_at', (v) => v],
  updatedAt: ['updated_at', (v) => v],
  startedAt: ['started_at', (v) => v],
  finishedAt: ['finished_at', (v) => v],
  runId: ['run_id', (v) => v],
  stepId: ['step_id', (v) => v],
  overBudgetApproved: ['over_budget_approved', (v) => (v ? 1 : 0)],
};

const AGENT_COLUMNS: Record<string, string> = {
  role: 'role',
  provider: 'provider',
  model: 'model',
  status: 'status',
  load: 'load',
  capacity: 'capacity',
  lastHeartbeat: 'last_heartbeat',
};

const emptyRow = (period: string): SpendRow => ({ period, spent: 0, reserved: 0, unsettled: 0 });

/** The Store over SQL, shared by the SQLite and PostgreSQL drivers. */
export class SqlStore implements Store {
  readonly backend: 'sqlite' | 'postgresql';
  private readonly forUpdate: string;

  constructor(private readonly db: SqlDriver) {
    this.backend = db.dialect;
    this.forUpdate = db.dialect === 'postgresql' ? ' FOR UPDATE' : '';
  }

  migrate(): Promise<number> {
    return migrate(this.db, MIGRATIONS);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // ---- projects ----

  async createProject(p: Project): Promise<void> {
    try {
      await this.db.run('INSERT INTO projects (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
        p.id,
        p.name,
        p.description,
        p.createdAt,
        p.updatedAt,
      ]);
    } catch (e) {
      if (this.db.isUniqueViolation(e)) throw conflictError(`a project named '${p.name}' already exists`);
      throw e;
    }
  }

  async getProject(idOrName: string): Promise<Project | undefined> {
    const r = await this.db.get('SELECT * FROM projects WHERE id = ? OR name = ? ORDER BY (id = ?) DESC LIMIT 1', [
      idOrName,
      idOrName,
      idOrName,
    ]);
    return r ? toProject(r) : undefined;
  }

  async listProjects(): Promise<Project[]> {
    return (await this.db.all('SELECT * FROM projects ORDER BY name')).map(toProject);
  }

  async updateProject(
    id: string,
    patch: Partial<Pick<Project, 'name' | 'description'>>,
    now: number,
  ): Promise<Project | undefined> {
    const sets: string[] = ['updated_at = ?'];
    const params: unknown[] = [now];
    if (patch.name !== undefined) sets.push('name = ?') && params.push(patch.name);
    if (patch.description !== undefined) sets.push('description = ?') && params.push(patch.description);
    try {
      const n = await this.db.run(`UPDATE projects SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
      return n ? this.getProject(id) : undefined;
    } catch (e) {
      if (this.db.isUniqueViolation(e)) throw conflictError(`a project named '${patch.name}' already exists`);
      throw e;
    }
  }

  async deleteProject(id: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      await q.run('DELETE FROM tasks WHERE project_id = ?', [id]);
      return (await q.run('DELETE FROM projects WHERE id = ?', [id])) > 0;
    });
  }

  // ---- tasks ----

  async createTask(t: Task): Promise<void> {
    const cols = ['id', 'created_at', ...Object.values(TASK_COLUMNS).map(([c]) => c)];
    const vals = [t.id, t.createdAt, ...Object.entries(TASK_COLUMNS).map(([k, [, enc]]) => enc(t[k as keyof Task]))];
    await this.db.run(`INSERT INTO tasks (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, vals);
  }

  async getTask(id: string): Promise<Task | undefined> {
    const r = await this.db.get('SELECT * FROM tasks WHERE id = ?', [id]);
    return r ? toTask(r) : undefined;
  }

  async listTasks(f: TaskFilter = {}): Promise<Task[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.status) where.push('status = ?') && params.push(f.status);
    if (f.projectId) where.push('project_id = ?') && params.push(f.projectId);
    if (f.role) where.push('role = ?') && params.push(f.role);
    if (f.agentId) where.push('agent_id = ?') && params.push(f.agentId);
    const sql = `SELECT * FROM tasks${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY priority DESC, created_at, id LIMIT ?`;
    return (await this.db.all(sql, [...params, f.limit ?? 1000])).map(toTask);
  }

  async updateTask(
    id: string,
    patch: Partial<Omit<Task, 'id' | 'createdAt'>>,
    expect?: { status?: TaskStatus[]; assignmentId?: string | null },
  ): Promise<Task | undefined> {
    return this.db.tx(async (q) => ((await updateTaskIn(q, id, patch, expect)) ? this.taskIn(q, id) : undefined));
  }

  private async taskIn(q: SqlQueryer, id: string): Promise<Task | undefined> {
    const r = await q.get('SELECT * FROM tasks WHERE id = ?', [id]);
    return r ? toTask(r) : undefined;
  }

  async deleteTask(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM tasks WHERE id = ?', [id])) > 0;
  }

  async undispatched(limit: number): Promise<Task[]> {
    const rows = await this.db.all(
      `SELECT * FROM tasks WHERE status = 'doing' AND dispatched_at IS NULL AND assignment_id IS NOT NULL
       ORDER BY priority DESC, updated_at LIMIT ?`,
      [limit],
    );
    return rows.map(toTask);
  }

  async requeueDispatched(): Promise<number> {
    return this.db.run(
      `UPDATE tasks SET dispatched_at = NULL WHERE status = 'doing' AND dispatched_at IS NOT NULL AND assignment_id IS NOT NULL`,
    );
  }

  async tasksOfAgent(agentId: string, status: TaskStatus): Promise<Task[]> {
    return (await this.db.all('SELECT * FROM tasks WHERE agent_id = ? AND status = ?', [agentId, status])).map(toTask);
  }

  // ---- agents ----

  async createAgent(a: Agent): Promise<void> {
    try {
      await this.db.run(
        `INSERT INTO agents (id, role, provider, model, status, load, capacity, last_heartbeat, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [a.id, a.role, a.provider, a.model, a.status, a.load, a.capacity, a.lastHeartbeat, a.createdAt],
      );
    } catch (e) {
      if (this.db.isUniqueViolation(e)) throw conflictError(`an agent with id '${a.id}' already exists`);
      throw e;
    }
  }

  async getAgent(id: string): Promise<Agent | undefined> {
    const r = await this.db.get('SELECT * FROM agents WHERE id = ?', [id]);
    return r ? toAgent(r) : undefined;
  }

  async listAgents(f: AgentFilter = {}): Promise<Agent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.role) where.push('role = ?') && params.push(f.role);
    if (f.status) where.push('status = ?') && params.push(f.status);
    const sql = `SELECT * FROM agents${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY role, id`;
    return (await this.db.all(sql, params)).map(toAgent);
  }

  async updateAgent(id: string, patch: Partial<Omit<Agent, 'id' | 'createdAt'>>): Promise<Agent | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = AGENT_COLUMNS[k];
      if (col && v !== undefined) sets.push(`${col} = ?`) && params.push(v);
    }
    if (sets.length > 0) await this.db.run(`UPDATE agents SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return this.getAgent(id);
  }

  async deleteAgent(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM agents WHERE id = ?', [id])) > 0;
  }

  async markStaleOffline(before: number): Promise<string[]> {
    return this.db.tx(async (q) => {
      const rows = await q.all<{ id: string }>(
        `SELECT id FROM agents WHERE status <> 'offline' AND (last_heartbeat IS NULL OR last_heartbeat < ?)`,
        [before],
      );
      for (const r of rows) await q.run(`UPDATE agents SET status = 'offline' WHERE id = ?`, [r.id]);
      return rows.map((r) => String(r.id));
    });
  }

  // ---- assignment and results ----

  async assign(req: AssignRequest): Promise<Task | undefined> {
    return this.db.tx(async (q) => {
      const agent = await q.get('SELECT * FROM agents WHERE id = ?', [req.agentId]);
      if (!agent) return undefined;
      const cap = Math.max(1, num(agent.capacity));
      const ok = await updateTaskIn(
        q,
        req.taskId,
        {
          status: 'doing',
          agentId: req.agentId,
          assignmentId: req.assignmentId,
          dispatchedAt: null,
          startedAt: req.now,
          finishedAt: null,
          error: null,
          updatedAt: req.now,
        },
        { status: req.from },
        true,
      );
      if (!ok) return undefined;
      await q.run(`UPDATE agents SET load = ${this.least()}(1.0, load + ?) WHERE id = ?`, [1 / cap, req.agentId]);
      return this.taskIn(q, req.taskId);
    });
  }

  private least(): string {
    return this.backend === 'postgresql' ? 'LEAST' : 'MIN';
  }

  private greatest(): string {
    return this.backend === 'postgresql' ? 'GREATEST' : 'MAX';
  }

  async applyResult(r: ResultApply): Promise<boolean> {
    return this.db.tx(async (q) => {
      const task = await q.get<Row>(`SELECT * FROM tasks WHERE id = ?${this.forUpdate}`, [r.taskId]);
      if (!task || task.assignment_id !== r.assignmentId || task.status !== 'doing') return false;
      const e = r.execution;
      const inserted = await q.run(
        `INSERT INTO executions (id, task_id, agent_id, role, task_type, assignment_id, started_at, finished_at,
           duration_ms, input_tokens, output_tokens, cost_microcents, outcome, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (assignment_id) DO NOTHING`,
        [
          e.id,
          e.taskId,
          e.agentId,
          e.role,
          e.taskType,
          e.assignmentId,
          e.startedAt,
          e.finishedAt,
          e.durationMs,
          e.inputTokens,
          e.outputTokens,
          e.costMicrocents,
          e.outcome,
          e.error,
        ],
      );
      if (inserted === 0) return false;
      await updateTaskIn(q, r.taskId, {
        status: r.status,
        result: r.result,
        error: r.error,
        finishedAt: r.now,
        updatedAt: r.now,
      });
      const agent = await q.get<Row>('SELECT capacity FROM agents WHERE id = ?', [e.agentId]);
      if (agent) {
        await q.run(`UPDATE agents SET load = ${this.greatest()}(0.0, load - ?) WHERE id = ?`, [
          1 / Math.max(1, num(agent.capacity)),
          e.agentId,
        ]);
      }
      return true;
    });
  }

  async listExecutions(f: {
    taskId?: string;
    agentId?: string;
    taskType?: string;
    limit?: number;
  }): Promise<Execution[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.taskId) where.push('task_id = ?') && params.push(f.taskId);
    if (f.agentId) where.push('agent_id = ?') && params.push(f.agentId);
    if (f.taskType) where.push('task_type = ?') && params.push(f.taskType);
    const sql = `SELECT * FROM executions${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY finished_at DESC, id LIMIT ?`;
    return (await this.db.all(sql, [...params, f.limit ?? 1000])).map(toExecution);
  }

  private statsSql(byType: boolean): string {
    return `SELECT agent_id, role${byType ? ', task_type' : ''},
        SUM(CASE WHEN finished_at >= ? THEN 1 ELSE 0 END) AS n_recent,
        SUM(CASE WHEN finished_at >= ? AND outcome = 'success' THEN 1 ELSE 0 END) AS s_recent,
        SUM(CASE WHEN finished_at < ? THEN 1 ELSE 0 END) AS n_old,
        SUM(CASE WHEN finished_at < ? AND outcome = 'success' THEN 1 ELSE 0 END) AS s_old
      FROM executions WHERE outcome <> 'refused'${byType ? '' : ' AND task_type = ?'}
      GROUP BY agent_id, role${byType ? ', task_type' : ''} ORDER BY agent_id`;
  }

  async executionStats(taskType: string, recentSince: number): Promise<ExecStats[]> {
    const rows = await this.db.all(this.statsSql(false), [
      recentSince,
      recentSince,
      recentSince,
      recentSince,
      taskType,
    ]);
    return rows.map(toStats);
  }

  async allExecutionStats(recentSince: number): Promise<(ExecStats & { taskType: string })[]> {
    const rows = await this.db.all(this.statsSql(true), [recentSince, recentSince, recentSince, recentSince]);
    return rows.map((r) => ({ ...toStats(r), taskType: str(r.task_type) }));
  }

  // ---- budgets ----

  async getBudget(role: Role): Promise<Budget | undefined> {
    const r = await this.db.get('SELECT * FROM budgets WHERE role = ?', [role]);
    return r ? toBudget(r) : undefined;
  }

  async listBudgets(): Promise<Budget[]> {
    return (await this.db.all('SELECT * FROM budgets ORDER BY role')).map(toBudget);
  }

  async setBudget(b: Budget): Promise<void> {
    await this.db.run(
      `INSERT INTO budgets (role, monthly_microcents, weekly_microcents, on_exceeded, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (role) DO UPDATE SET monthly_microcents = excluded.monthly_microcents,
         weekly_microcents = excluded.weekly_microcents, on_exceeded = excluded.on_exceeded,
         updated_at = excluded.updated_at`,
      [b.role, b.monthlyMicrocents, b.weeklyMicrocents, b.onExceeded, b.updatedAt],
    );
  }

  async spend(role: Role, keys: PeriodKeys): Promise<Spend> {
    const rows = await this.db.all(
      `SELECT period, spent, reserved, (SELECT COALESCE(SUM(cost_microcents), 0) FROM cost_records c
         WHERE c.role = b.role AND c.outcome = 'unsettled' AND (c.month_key = b.period OR c.week_key = b.period))
         AS unsettled
       FROM budget_spend b WHERE role = ? AND period IN (?, ?)`,
      [role, keys.month, keys.week],
    );
    return spendOf(rows, keys);
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const periods = [req.keys.month, req.keys.week].sort();
    return this.db.tx(async (q) => {
      // Lazy, instead of a sweeper job: reservations of dead processes are charged here, in full (unsettled).
      const orphans = await q.all<Row>(
        `SELECT * FROM reservations WHERE role = ? AND (expires_at < ?
           OR owner NOT IN (SELECT id FROM runtimes WHERE last_seen >= ?))`,
        [req.role, req.now, req.ownerStaleBefore],
      );
      for (const x of orphans) await this.chargeOrphan(q, x, req.now);
      for (const p of periods) {
        await q.run('INSERT INTO budget_spend (role, period) VALUES (?, ?) ON CONFLICT (role, period) DO NOTHING', [
          req.role,
          p,
        ]);
      }
      const rows = await q.all<Row>(
        `SELECT period, spent, reserved FROM budget_spend WHERE role = ? AND period IN (?, ?) ORDER BY period${this.forUpdate}`,
        [req.role, ...periods],
      );
      const spend = spendOf(rows, req.keys);
      const refused = req.fits(spend, req.limits, req.amount);
      if (refused) return { ok: false, ...refused };
      await q.run('UPDATE budget_spend SET reserved = reserved + ? WHERE role = ? AND period IN (?, ?)', [
        req.amount,
        req.role,
        ...periods,
      ]);
      const m = req.meta ?? {};
      await q.run(
        `INSERT INTO reservations (id, role, month_key, week_key, amount, created_at, expires_at, owner, request_id,
           task_id, task_type, target) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          req.id,
          req.role,
          req.keys.month,
          req.keys.week,
          req.amount,
          req.now,
          req.now + req.ttlMs,
          req.owner,
          m.requestId ?? null,
          m.taskId ?? null,
          m.taskType ?? null,
          m.target ?? null,
        ],
      );
      spend.month.reserved += req.amount;
      spend.week.reserved += req.amount;
      return { ok: true, spend };
    });
  }

  private async unreserve(q: SqlQueryer, role: string, x: Row): Promise<void> {
    const amount = num(x.amount);
    await q.run(
      `UPDATE budget_spend SET reserved = ${this.greatest()}(0, reserved - ?) WHERE role = ? AND period IN (?, ?)`,
      [amount, role, x.month_key, x.week_key],
    );
    await q.run('DELETE FROM reservations WHERE id = ?', [x.id]);
  }

  /**
   * The process holding this reservation died: whatever it was calling may have been billed, and we cannot know
   * how much. Charge the reserved maximum and mark it `unsettled` until a person reconciles it: a crash can make
   * us over-count, never overspend.
   */
  private async chargeOrphan(q: SqlQueryer, x: Row, now: number): Promise<CostRecord> {
    const role = str(x.role) as Role;
    await this.unreserve(q, role, x);
    const target = str(x.target);
    const i = target.indexOf(':');
    const c: CostRecord = {
      id: `unsettled-${str(x.id)}`,
      requestId: str(x.request_id) || str(x.id),
      taskId: strOrNull(x.task_id),
      role,
      taskType: str(x.task_type),
      provider: (i > 0 ? target.slice(0, i) : '') as ProviderName,
      model: i > 0 ? target.slice(i + 1) : '',
      servedModel: i > 0 ? target.slice(i + 1) : '',
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costMicrocents: num(x.amount),
      priceVersion: '',
      outcome: 'unsettled',
      fallbackFrom: null,
      monthKey: str(x.month_key),
      weekKey: str(x.week_key),
      createdAt: now,
    };
    await this.recordCost(q, c);
    return c;
  }

  async settleOrphans(req: { now: number; ownerStaleBefore: number; deadOwners: string[] }): Promise<CostRecord[]> {
    const dead = req.deadOwners.length ? ` OR owner IN (${req.deadOwners.map(() => '?').join(', ')})` : '';
    return this.db.tx(async (q) => {
      const rows = await q.all<Row>(
        `SELECT * FROM reservations WHERE expires_at < ?
           OR owner NOT IN (SELECT id FROM runtimes WHERE last_seen >= ?)${dead} ORDER BY role, id`,
        [req.now, req.ownerStaleBefore, ...req.deadOwners],
      );
      const out: CostRecord[] = [];
      for (const x of rows) out.push(await this.chargeOrphan(q, x, req.now));
      if (req.deadOwners.length)
        await q.run(`DELETE FROM runtimes WHERE id IN (${req.deadOwners.map(() => '?').join(', ')})`, req.deadOwners);
      return out;
    });
  }

  async heartbeatOwner(o: { id: string; host: string; pid: number; lastSeen: number }): Promise<void> {
    await this.db.run(
      `INSERT INTO runtimes (id, host, pid, last_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen`,
      [o.id, o.host, o.pid, o.lastSeen],
    );
  }

  async removeOwner(id: string): Promise<void> {
    await this.db.run('DELETE FROM runtimes WHERE id = ?', [id]);
  }

  async listOwners(): Promise<{ id: string; host: string; pid: number; lastSeen: number }[]> {
    const rows = await this.db.all('SELECT * FROM runtimes ORDER BY id');
    return rows.map((r) => ({ id: str(r.id), host: str(r.host), pid: num(r.pid), lastSeen: num(r.last_seen) }));
  }

  async reconcileCost(id: string, actual: number, now: number): Promise<CostRecord | undefined> {
    return this.db.tx(async (q) => {
      const r = await q.get<Row>(`SELECT * FROM cost_records WHERE id = ?${this.forUpdate}`, [id]);
      if (r?.outcome !== 'unsettled') return undefined;
      const delta = actual - num(r.cost_microcents);
      for (const p of [str(r.month_key), str(r.week_key)].sort()) {
        await q.run(`UPDATE budget_spend SET spent = ${this.greatest()}(0, spent + ?) WHERE role = ? AND period = ?`, [
          delta,
          r.role,
          p,
        ]);
      }
      await q.run(
        `UPDATE cost_records SET cost_microcents = ?, outcome = 'reconciled', reconciled_at = ? WHERE id = ?`,
        [actual, now, id],
      );
      const out = await q.get<Row>('SELECT * FROM cost_records WHERE id = ?', [id]);
      return out ? toCost(out) : undefined;
    });
  }

  // ---- approvals ----

  async createApproval(a: Approval): Promise<void> {
    await this.db.run(
      `INSERT INTO approvals (id, kind, task_id, run_id, step_id, role, action, details, status, requested_by,
         requested_at, expires_at, decided_by, decided_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        a.id,
        a.kind,
        a.taskId,
        a.runId,
        a.stepId,
        a.role,
        a.action,
        JSON.stringify(a.details),
        a.status,
        a.requestedBy,
        a.requestedAt,
        a.expiresAt,
        a.decidedBy,
        a.decidedAt,
        a.reason,
      ],
    );
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    const r = await this.db.get('SELECT * FROM approvals WHERE id = ?', [id]);
    return r ? toApproval(r) : undefined;
  }

  async listApprovals(f: { status?: ApprovalStatus; taskId?: string; runId?: string } = {}): Promise<Approval[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.status) where.push('status = ?') && params.push(f.status);
    if (f.taskId) where.push('task_id = ?') && params.push(f.taskId);
    if (f.runId) where.push('run_id = ?') && params.push(f.runId);
    const sql = `SELECT * FROM approvals${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY requested_at, id`;
    return (await this.db.all(sql, params)).map(toApproval);
  }

  async decideApproval(
    id: string,
    d: { status: Exclude<ApprovalStatus, 'pending'>; decidedBy: string | null; reason: string | null; now: number },
  ): Promise<Approval | undefined> {
    const n = await this.db.run(
      `UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ? AND status = 'pending'`,
      [d.status, d.decidedBy, d.now, d.reason, id],
    );
    return n ? this.getApproval(id) : undefined;
  }

  // ---- pipelines ----

  async createRun(run: PipelineRun, steps: StepState[]): Promise<void> {
    await this.db.tx(async (q) => {
      await q.run(
        `INSERT INTO pipeline_runs (id, pipeline, definition, project_id, inputs, status, error, created_by, created_at,
           updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          run.id,
          run.pipeline,
          JSON.stringify(run.definition),
          run.projectId,
          JSON.stringify(run.inputs),
          run.status,
          run.error,
          run.createdBy,
          run.createdAt,
          run.updatedAt,
          run.finishedAt,
        ],
      );
      for (const s of steps) await putStepIn(q, s);
    });
  }

  async getRun(id: string): Promise<PipelineRun | undefined> {
    const r = await this.db.get('SELECT * FROM pipeline_runs WHERE id = ?', [id]);
    return r ? toRun(r) : undefined;
  }

  async listRuns(f: { status?: RunStatus[]; limit?: number } = {}): Promise<PipelineRun[]> {
    const where = f.status?.length ? ` WHERE status IN (${f.status.map(() => '?').join(', ')})` : '';
    const rows = await this.db.all(`SELECT * FROM pipeline_runs${where} ORDER BY created_at DESC, id LIMIT ?`, [
      ...(f.status ?? []),
      f.limit ?? 1000,
    ]);
    return rows.map(toRun);
  }

  async updateRun(
    id: string,
    patch: Partial<Pick<PipelineRun, 'status' | 'error' | 'updatedAt' | 'finishedAt'>>,
    expect?: RunStatus[],
  ): Promise<boolean> {
    const cols: Record<string, string> = {
      status: 'status',
      error: 'error',
      updatedAt: 'updated_at',
      finishedAt: 'finished_at',
    };
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || !cols[k]) continue;
      sets.push(`${cols[k]} = ?`);
      params.push(v);
    }
    if (!sets.length) return true;
    let where = 'id = ?';
    params.push(id);
    if (expect?.length) {
      where += ` AND status IN (${expect.map(() => '?').join(', ')})`;
      params.push(...expect);
    }
    return (await this.db.run(`UPDATE pipeline_runs SET ${sets.join(', ')} WHERE ${where}`, params)) > 0;
  }

  async listSteps(runId: string): Promise<StepState[]> {
    return (await this.db.all('SELECT * FROM pipeline_steps WHERE run_id = ? ORDER BY phase, step_id', [runId])).map(
      toStep,
    );
  }

  async changeStamp(): Promise<string> {
    const r = await this.db.get(
      `SELECT (SELECT COUNT(*) FROM tasks) AS tn, (SELECT MAX(updated_at) FROM tasks) AS tu,
         (SELECT COUNT(*) FROM approvals) AS an, (SELECT MAX(COALESCE(decided_at, requested_at)) FROM approvals) AS au,
         (SELECT MAX(updated_at) FROM pipeline_runs) AS ru, (SELECT COUNT(*) FROM pipeline_steps) AS sn,
         (SELECT MAX(COALESCE(finished_at, started_at)) FROM pipeline_steps) AS su,
         (SELECT SUM(spent + reserved) FROM budget_spend) AS bs, (SELECT MAX(updated_at) FROM budgets) AS bu`,
    );
    return Object.values(r ?? {})
      .map((v) => String(v ?? 0))
      .join(':');
  }

  async putStep(s: StepState): Promise<void> {
    await putStepIn(this.db, s);
  }

  // ---- API tokens ----

  async createToken(t: ApiToken & { secretHash: string }): Promise<void> {
    await this.db.run(
      `INSERT INTO api_tokens (id, name, role, projects, secret_hash, created_at, expires_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        t.id,
        t.name,
        t.role,
        t.projects === null ? null : JSON.stringify(t.projects),
        t.secretHash,
        t.createdAt,
        t.expiresAt,
        t.revokedAt,
      ],
    );
  }

  async getToken(id: string): Promise<(ApiToken & { secretHash: string }) | undefined> {
    const r = await this.db.get('SELECT * FROM api_tokens WHERE id = ?', [id]);
    return r ? { ...toToken(r), secretHash: str(r.secret_hash) } : undefined;
  }

  async listTokens(): Promise<ApiToken[]> {
    return (await this.db.all('SELECT * FROM api_tokens ORDER BY created_at, id')).map(toToken);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    return (
      (await this.db.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])) > 0
    );
  }

  async settle(reservationId: string | null, c: CostRecord): Promise<Spend> {
    return this.db.tx(async (q) => {
      const keys = { month: c.monthKey, week: c.weekKey };
      if (reservationId) {
        const x = await q.get<Row>(`SELECT * FROM reservations WHERE id = ?${this.forUpdate}`, [reservationId]);
        if (x) await this.unreserve(q, c.role, x);
        else {
          // Charged in full as an orphan while this (stalled) process still lived: the real figure replaces it.
          const orphan = await q.get<Row>(`SELECT * FROM cost_records WHERE id = ? AND outcome = 'unsettled'`, [
            `unsettled-${reservationId}`,
          ]);
          if (orphan) {
            for (const p of [str(orphan.month_key), str(orphan.week_key)].sort()) {
              await q.run(
                `UPDATE budget_spend SET spent = ${this.greatest()}(0, spent - ?) WHERE role = ? AND period = ?`,
                [num(orphan.cost_microcents), c.role, p],
              );
            }
            await q.run('DELETE FROM cost_records WHERE id = ?', [orphan.id]);
          }
        }
      }
      await this.recordCost(q, c);
      const rows = await q.all('SELECT period, spent, reserved FROM budget_spend WHERE role = ? AND period IN (?, ?)', [
        c.role,
        keys.month,
        keys.week,
      ]);
      return spendOf(rows, keys);
    });
  }

  /** Adds a cost to both periods' spend and writes its record (inside the caller's transaction). */
  private async recordCost(q: SqlQueryer, c: CostRecord): Promise<void> {
    if (c.costMicrocents > 0) {
      for (const p of [c.monthKey, c.weekKey].sort()) {
        await q.run(
          `INSERT INTO budget_spend (role, period, spent) VALUES (?, ?, ?)
           ON CONFLICT (role, period) DO UPDATE SET spent = budget_spend.spent + excluded.spent`,
          [c.role, p, c.costMicrocents],
        );
      }
    }
    await q.run(
      `INSERT INTO cost_records (id, request_id, task_id, role, task_type, provider, model, served_model, input_tokens,
         output_tokens, cache_read_tokens, cache_write_tokens, cost_microcents, price_version, outcome, fallback_from,
         month_key, week_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        c.id,
        c.requestId,
        c.taskId,
        c.role,
        c.taskType,
        c.provider,
        c.model,
        c.servedModel,
        c.inputTokens,
        c.outputTokens,
        c.cacheReadTokens,
        c.cacheWriteTokens,
        c.costMicrocents,
        c.priceVersion,
        c.outcome,
        c.fallbackFrom,
        c.monthKey,
        c.weekKey,
        c.createdAt,
      ],
    );
  }

  async release(reservationId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const x = await q.get<Row>(`SELECT * FROM reservations WHERE id = ?${this.forUpdate}`, [reservationId]);
      if (!x) return false;
      await this.unreserve(q, str(x.role), x);
      return true;
    });
  }

  async listCosts(f: CostQuery = {}): Promise<CostRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.since !== undefined) where.push('created_at >= ?') && params.push(f.since);
    if (f.role) where.push('role = ?') && params.push(f.role);
    if (f.provider) where.push('provider = ?') && params.push(f.provider);
    if (f.taskId) where.push('task_id = ?') && params.push(f.taskId);
    if (f.outcome) where.push('outcome = ?') && params.push(f.outcome);
    const sql = `SELECT * FROM cost_records${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at, id LIMIT ?`;
    return (await this.db.all(sql, [...params, f.limit ?? 100_000])).map(toCost);
  }

  async insertAlert(a: {
    id: string;
    role: Role;
    period: string;
    level: string;
    ratio: number;
    now: number;
  }): Promise<boolean> {
    const n = await this.db.run(
      'INSERT INTO alerts (id, role, period, level, ratio, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      [a.id, a.role, a.period, a.level, a.ratio, a.now],
    );
    return n > 0;
  }
}

function toStats(r: Row): ExecStats {
  return {
    agentId: str(r.agent_id),
    role: str(r.role) as Role,
    nRecent: num(r.n_recent),
    sRecent: num(r.s_recent),
    nOld: num(r.n_old),
    sOld: num(r.s_old),
  };
}

function spendOf(rows: Row[], keys: PeriodKeys): Spend {
  const find = (p: string): SpendRow => {
    const r = rows.find((x) => x.period === p);
    return r ? { period: p, spent: num(r.spent), reserved: num(r.reserved), unsettled: num(r.unsettled) } : emptyRow(p);
  };
  return { month: find(keys.month), week: find(keys.week) };
}

async function updateTaskIn(
  q: SqlQueryer,
  id: string,
  patch: Partial<Omit<Task, 'id' | 'createdAt'>>,
  expect?: { status?: TaskStatus[]; assignmentId?: string | null },
  bumpAttempt = false,
): Promise<boolean> {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [k, v] of Object.entries(patch)) {
    const col = TASK_COLUMNS[k];
    if (!col || v === undefined) continue;
    sets.push(`${col[0]} = ?`);
    params.push(col[1](v));
  }
  if (bumpAttempt) sets.push('attempt = attempt + 1');
  if (sets.length === 0) return true;
  const where = ['id = ?'];
  params.push(id);
  if (expect?.status?.length) {
    where.push(`status IN (${expect.status.map(() => '?').join(', ')})`);
    params.push(...expect.status);
  }
  if (expect && 'assignmentId' in expect) {
    if (expect.assignmentId === null) where.push('assignment_id IS NULL');
    else where.push('assignment_id = ?') && params.push(expect.assignmentId);
  }
  return (await q.run(`UPDATE tasks SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, params)) > 0;
}

async function putStepIn(q: SqlQueryer, s: StepState): Promise<void> {
  await q.run(
    `INSERT INTO pipeline_steps (run_id, step_id, phase, status, task_id, output, attempts, error, started_at, finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, step_id, phase) DO UPDATE SET status = excluded.status, task_id = excluded.task_id,
       output = excluded.output, attempts = excluded.attempts, error = excluded.error,
       started_at = excluded.started_at, finished_at = excluded.finished_at`,
    [
      s.runId,
      s.stepId,
      s.phase,
      s.status,
      s.taskId,
      s.output === undefined || s.output === null ? null : JSON.stringify(s.output),
      s.attempts,
      s.error,
      s.startedAt,
      s.finishedAt,
    ],
  );
}
