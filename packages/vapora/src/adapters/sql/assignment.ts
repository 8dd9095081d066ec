import { forUpdate, greatest, least, type Row, type SqlDriver } from '@stratumiops/shared/sql/driver';
import type { Execution, Outcome, Task } from '../../core/model.js';
import type { Role } from '../../core/roles.js';
import type { AssignmentStore, AssignRequest, ExecStats, ResultApply } from '../../core/store.js';
import { num, numOrNull, str, strOrNull } from './rows.js';
import { taskIn, updateTaskIn } from './tasks.js';

// Assignment and results: a task and its agent change together, and each result is applied once.

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

function statsSql(byType: boolean): string {
  return `SELECT agent_id, role${byType ? ', task_type' : ''},
      SUM(CASE WHEN finished_at >= ? THEN 1 ELSE 0 END) AS n_recent,
      SUM(CASE WHEN finished_at >= ? AND outcome = 'success' THEN 1 ELSE 0 END) AS s_recent,
      SUM(CASE WHEN finished_at < ? THEN 1 ELSE 0 END) AS n_old,
      SUM(CASE WHEN finished_at < ? AND outcome = 'success' THEN 1 ELSE 0 END) AS s_old
    FROM executions WHERE outcome <> 'refused'${byType ? '' : ' AND task_type = ?'}
    GROUP BY agent_id, role${byType ? ', task_type' : ''} ORDER BY agent_id`;
}

export function assignmentSql(db: SqlDriver): AssignmentStore {
  const store: AssignmentStore = {
    async assign(req: AssignRequest): Promise<Task | undefined> {
      return db.tx(async (q) => {
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
        await q.run(`UPDATE agents SET load = ${least(db)}(1.0, load + ?) WHERE id = ?`, [1 / cap, req.agentId]);
        return taskIn(q, req.taskId);
      });
    },

    async applyResult(r: ResultApply): Promise<boolean> {
      return db.tx(async (q) => {
        const task = await q.get<Row>(`SELECT * FROM tasks WHERE id = ?${forUpdate(db)}`, [r.taskId]);
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
          await q.run(`UPDATE agents SET load = ${greatest(db)}(0.0, load - ?) WHERE id = ?`, [
            1 / Math.max(1, num(agent.capacity)),
            e.agentId,
          ]);
        }
        return true;
      });
    },

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
      return (await db.all(sql, [...params, f.limit ?? 1000])).map(toExecution);
    },

    async executionStats(taskType: string, recentSince: number): Promise<ExecStats[]> {
      const rows = await db.all(statsSql(false), [recentSince, recentSince, recentSince, recentSince, taskType]);
      return rows.map(toStats);
    },

    async allExecutionStats(recentSince: number): Promise<(ExecStats & { taskType: string })[]> {
      const rows = await db.all(statsSql(true), [recentSince, recentSince, recentSince, recentSince]);
      return rows.map((r) => ({ ...toStats(r), taskType: str(r.task_type) }));
    },
  };
  return store;
}
