import type { Row, SqlDriver } from '@stratumiops/shared/sql/driver';
import type { Approval, ApprovalStatus } from '../../core/model.js';
import type { Role } from '../../core/roles.js';
import type { ApprovalStore } from '../../core/store.js';
import { num, numOrNull, parseJson, str, strOrNull } from './rows.js';

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

export function approvalsSql(db: SqlDriver): ApprovalStore {
  const store: ApprovalStore = {
    async createApproval(a: Approval): Promise<void> {
      await db.run(
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
    },

    async getApproval(id: string): Promise<Approval | undefined> {
      const r = await db.get('SELECT * FROM approvals WHERE id = ?', [id]);
      return r ? toApproval(r) : undefined;
    },

    async listApprovals(f: { status?: ApprovalStatus; taskId?: string; runId?: string } = {}): Promise<Approval[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (f.status) where.push('status = ?') && params.push(f.status);
      if (f.taskId) where.push('task_id = ?') && params.push(f.taskId);
      if (f.runId) where.push('run_id = ?') && params.push(f.runId);
      const sql = `SELECT * FROM approvals${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY requested_at, id`;
      return (await db.all(sql, params)).map(toApproval);
    },

    async decideApproval(
      id: string,
      d: { status: Exclude<ApprovalStatus, 'pending'>; decidedBy: string | null; reason: string | null; now: number },
    ): Promise<Approval | undefined> {
      const n = await db.run(
        `UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ? AND status = 'pending'`,
        [d.status, d.decidedBy, d.now, d.reason, id],
      );
      return n ? store.getApproval(id) : undefined;
    },
  };
  return store;
}
