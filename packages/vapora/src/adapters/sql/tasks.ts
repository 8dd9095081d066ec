import type { Row, SqlDriver, SqlQueryer } from '@stratumiops/shared/sql/driver';
import type { Task, TaskStatus } from '../../core/model.js';
import { priorityName, priorityValue } from '../../core/model.js';
import type { Role } from '../../core/roles.js';
import type { TaskFilter, TaskStore } from '../../core/store.js';
import { num, numOrNull, parseJson, str, strOrNull } from './rows.js';

export function toTask(r: Row): Task {
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

export async function updateTaskIn(
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

export async function taskIn(q: SqlQueryer, id: string): Promise<Task | undefined> {
  const r = await q.get('SELECT * FROM tasks WHERE id = ?', [id]);
  return r ? toTask(r) : undefined;
}

export function tasksSql(db: SqlDriver): TaskStore {
  const store: TaskStore = {
    async createTask(t: Task): Promise<void> {
      const cols = ['id', 'created_at', ...Object.values(TASK_COLUMNS).map(([c]) => c)];
      const vals = [t.id, t.createdAt, ...Object.entries(TASK_COLUMNS).map(([k, [, enc]]) => enc(t[k as keyof Task]))];
      await db.run(`INSERT INTO tasks (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, vals);
    },

    async getTask(id: string): Promise<Task | undefined> {
      const r = await db.get('SELECT * FROM tasks WHERE id = ?', [id]);
      return r ? toTask(r) : undefined;
    },

    async listTasks(f: TaskFilter = {}): Promise<Task[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (f.status) where.push('status = ?') && params.push(f.status);
      if (f.projectId) where.push('project_id = ?') && params.push(f.projectId);
      if (f.role) where.push('role = ?') && params.push(f.role);
      if (f.agentId) where.push('agent_id = ?') && params.push(f.agentId);
      const sql = `SELECT * FROM tasks${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY priority DESC, created_at, id LIMIT ?`;
      return (await db.all(sql, [...params, f.limit ?? 1000])).map(toTask);
    },

    async updateTask(
      id: string,
      patch: Partial<Omit<Task, 'id' | 'createdAt'>>,
      expect?: { status?: TaskStatus[]; assignmentId?: string | null },
    ): Promise<Task | undefined> {
      return db.tx(async (q) => ((await updateTaskIn(q, id, patch, expect)) ? taskIn(q, id) : undefined));
    },

    async deleteTask(id: string): Promise<boolean> {
      return (await db.run('DELETE FROM tasks WHERE id = ?', [id])) > 0;
    },

    async undispatched(limit: number): Promise<Task[]> {
      const rows = await db.all(
        `SELECT * FROM tasks WHERE status = 'doing' AND dispatched_at IS NULL AND assignment_id IS NOT NULL
       ORDER BY priority DESC, updated_at LIMIT ?`,
        [limit],
      );
      return rows.map(toTask);
    },

    async requeueDispatched(): Promise<number> {
      return db.run(
        `UPDATE tasks SET dispatched_at = NULL WHERE status = 'doing' AND dispatched_at IS NOT NULL AND assignment_id IS NOT NULL`,
      );
    },

    async tasksOfAgent(agentId: string, status: TaskStatus): Promise<Task[]> {
      return (await db.all('SELECT * FROM tasks WHERE agent_id = ? AND status = ?', [agentId, status])).map(toTask);
    },
  };
  return store;
}
