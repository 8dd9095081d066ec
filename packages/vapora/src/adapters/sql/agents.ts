import { conflictError } from '@stratumiops/shared/errors';
import type { Row, SqlDriver } from '@stratumiops/shared/sql/driver';
import type { Agent, AgentStatus, ProviderName } from '../../core/model.js';
import type { Role } from '../../core/roles.js';
import type { AgentFilter, AgentStore } from '../../core/store.js';
import { num, numOrNull, str } from './rows.js';

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

const AGENT_COLUMNS: Record<string, string> = {
  role: 'role',
  provider: 'provider',
  model: 'model',
  status: 'status',
  load: 'load',
  capacity: 'capacity',
  lastHeartbeat: 'last_heartbeat',
};

export function agentsSql(db: SqlDriver): AgentStore {
  const store: AgentStore = {
    async createAgent(a: Agent): Promise<void> {
      try {
        await db.run(
          `INSERT INTO agents (id, role, provider, model, status, load, capacity, last_heartbeat, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [a.id, a.role, a.provider, a.model, a.status, a.load, a.capacity, a.lastHeartbeat, a.createdAt],
        );
      } catch (e) {
        if (db.isUniqueViolation(e)) throw conflictError(`an agent with id '${a.id}' already exists`);
        throw e;
      }
    },

    async getAgent(id: string): Promise<Agent | undefined> {
      const r = await db.get('SELECT * FROM agents WHERE id = ?', [id]);
      return r ? toAgent(r) : undefined;
    },

    async listAgents(f: AgentFilter = {}): Promise<Agent[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (f.role) where.push('role = ?') && params.push(f.role);
      if (f.status) where.push('status = ?') && params.push(f.status);
      const sql = `SELECT * FROM agents${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY role, id`;
      return (await db.all(sql, params)).map(toAgent);
    },

    async updateAgent(id: string, patch: Partial<Omit<Agent, 'id' | 'createdAt'>>): Promise<Agent | undefined> {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [k, v] of Object.entries(patch)) {
        const col = AGENT_COLUMNS[k];
        if (col && v !== undefined) sets.push(`${col} = ?`) && params.push(v);
      }
      if (sets.length > 0) await db.run(`UPDATE agents SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
      return store.getAgent(id);
    },

    async deleteAgent(id: string): Promise<boolean> {
      return (await db.run('DELETE FROM agents WHERE id = ?', [id])) > 0;
    },

    async markStaleOffline(before: number): Promise<string[]> {
      return db.tx(async (q) => {
        const rows = await q.all<{ id: string }>(
          `SELECT id FROM agents WHERE status <> 'offline' AND (last_heartbeat IS NULL OR last_heartbeat < ?)`,
          [before],
        );
        for (const r of rows) await q.run(`UPDATE agents SET status = 'offline' WHERE id = ?`, [r.id]);
        return rows.map((r) => String(r.id));
      });
    },
  };
  return store;
}
