import { forUpdate, greatest, type Row, type SqlDriver, type SqlQueryer } from '@stratumiops/shared/sql/driver';
import type { Budget, CostRecord, OnExceeded, ProviderName } from '../../core/model.js';
import type { PeriodKeys } from '../../core/periods.js';
import type { Role } from '../../core/roles.js';
import type {
  BudgetAlertRow,
  BudgetStore,
  CostQuery,
  ReserveRequest,
  ReserveResult,
  Spend,
  SpendRow,
} from '../../core/store.js';
import { num, numOrNull, str, strOrNull } from './rows.js';

// Budgets and spend per role and calendar period, reservations held by live processes, cost records. The fit
// rule is core's (ReserveRequest.fits, from core/budget.ts); here only the atomic update around it.

function toBudget(r: Row): Budget {
  return {
    role: str(r.role) as Role,
    monthlyMicrocents: numOrNull(r.monthly_microcents),
    weeklyMicrocents: numOrNull(r.weekly_microcents),
    onExceeded: strOrNull(r.on_exceeded) as OnExceeded | null,
    updatedAt: num(r.updated_at),
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

const emptyRow = (period: string): SpendRow => ({ period, spent: 0, reserved: 0, unsettled: 0 });

function spendOf(rows: Row[], keys: PeriodKeys): Spend {
  const find = (p: string): SpendRow => {
    const r = rows.find((x) => x.period === p);
    return r ? { period: p, spent: num(r.spent), reserved: num(r.reserved), unsettled: num(r.unsettled) } : emptyRow(p);
  };
  return { month: find(keys.month), week: find(keys.week) };
}

async function unreserve(db: SqlDriver, q: SqlQueryer, role: string, x: Row): Promise<void> {
  const amount = num(x.amount);
  await q.run(
    `UPDATE budget_spend SET reserved = ${greatest(db)}(0, reserved - ?) WHERE role = ? AND period IN (?, ?)`,
    [amount, role, x.month_key, x.week_key],
  );
  await q.run('DELETE FROM reservations WHERE id = ?', [x.id]);
}

/**
 * The process holding this reservation died: whatever it was calling may have been billed, and we cannot know
 * how much. Charge the reserved maximum and mark it `unsettled` until a person reconciles it: a crash can make
 * us over-count, never overspend.
 */
async function chargeOrphan(db: SqlDriver, q: SqlQueryer, x: Row, now: number): Promise<CostRecord> {
  const role = str(x.role) as Role;
  await unreserve(db, q, role, x);
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
  await recordCost(q, c);
  return c;
}

/** Adds a cost to both periods' spend and writes its record (inside the caller's transaction). */
async function recordCost(q: SqlQueryer, c: CostRecord): Promise<void> {
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

export function budgetsSql(db: SqlDriver): BudgetStore {
  const store: BudgetStore = {
    async getBudget(role: Role): Promise<Budget | undefined> {
      const r = await db.get('SELECT * FROM budgets WHERE role = ?', [role]);
      return r ? toBudget(r) : undefined;
    },

    async listBudgets(): Promise<Budget[]> {
      return (await db.all('SELECT * FROM budgets ORDER BY role')).map(toBudget);
    },

    async setBudget(b: Budget): Promise<void> {
      await db.run(
        `INSERT INTO budgets (role, monthly_microcents, weekly_microcents, on_exceeded, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (role) DO UPDATE SET monthly_microcents = excluded.monthly_microcents,
         weekly_microcents = excluded.weekly_microcents, on_exceeded = excluded.on_exceeded,
         updated_at = excluded.updated_at`,
        [b.role, b.monthlyMicrocents, b.weeklyMicrocents, b.onExceeded, b.updatedAt],
      );
    },

    async spend(role: Role, keys: PeriodKeys): Promise<Spend> {
      const rows = await db.all(
        `SELECT period, spent, reserved, (SELECT COALESCE(SUM(cost_microcents), 0) FROM cost_records c
         WHERE c.role = b.role AND c.outcome = 'unsettled' AND (c.month_key = b.period OR c.week_key = b.period))
         AS unsettled
       FROM budget_spend b WHERE role = ? AND period IN (?, ?)`,
        [role, keys.month, keys.week],
      );
      return spendOf(rows, keys);
    },

    async reserve(req: ReserveRequest): Promise<ReserveResult> {
      const periods = [req.keys.month, req.keys.week].sort();
      return db.tx(async (q) => {
        // Lazy, instead of a sweeper job: reservations of dead processes are charged here, in full (unsettled).
        const orphans = await q.all<Row>(
          `SELECT * FROM reservations WHERE role = ? AND (expires_at < ?
           OR owner NOT IN (SELECT id FROM runtimes WHERE last_seen >= ?))`,
          [req.role, req.now, req.ownerStaleBefore],
        );
        for (const x of orphans) await chargeOrphan(db, q, x, req.now);
        for (const p of periods) {
          await q.run('INSERT INTO budget_spend (role, period) VALUES (?, ?) ON CONFLICT (role, period) DO NOTHING', [
            req.role,
            p,
          ]);
        }
        const rows = await q.all<Row>(
          `SELECT period, spent, reserved FROM budget_spend WHERE role = ? AND period IN (?, ?) ORDER BY period${forUpdate(db)}`,
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
    },

    async settle(reservationId: string | null, c: CostRecord): Promise<Spend> {
      return db.tx(async (q) => {
        const keys = { month: c.monthKey, week: c.weekKey };
        if (reservationId) {
          const x = await q.get<Row>(`SELECT * FROM reservations WHERE id = ?${forUpdate(db)}`, [reservationId]);
          if (x) await unreserve(db, q, c.role, x);
          else {
            // Charged in full as an orphan while this (stalled) process still lived: the real figure replaces it.
            const orphan = await q.get<Row>(`SELECT * FROM cost_records WHERE id = ? AND outcome = 'unsettled'`, [
              `unsettled-${reservationId}`,
            ]);
            if (orphan) {
              for (const p of [str(orphan.month_key), str(orphan.week_key)].sort()) {
                await q.run(
                  `UPDATE budget_spend SET spent = ${greatest(db)}(0, spent - ?) WHERE role = ? AND period = ?`,
                  [num(orphan.cost_microcents), c.role, p],
                );
              }
              await q.run('DELETE FROM cost_records WHERE id = ?', [orphan.id]);
            }
          }
        }
        await recordCost(q, c);
        const rows = await q.all(
          'SELECT period, spent, reserved FROM budget_spend WHERE role = ? AND period IN (?, ?)',
          [c.role, keys.month, keys.week],
        );
        return spendOf(rows, keys);
      });
    },

    async release(reservationId: string): Promise<boolean> {
      return db.tx(async (q) => {
        const x = await q.get<Row>(`SELECT * FROM reservations WHERE id = ?${forUpdate(db)}`, [reservationId]);
        if (!x) return false;
        await unreserve(db, q, str(x.role), x);
        return true;
      });
    },

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
      return (await db.all(sql, [...params, f.limit ?? 100_000])).map(toCost);
    },

    async settleOrphans(req: { now: number; ownerStaleBefore: number; deadOwners: string[] }): Promise<CostRecord[]> {
      const dead = req.deadOwners.length ? ` OR owner IN (${req.deadOwners.map(() => '?').join(', ')})` : '';
      return db.tx(async (q) => {
        const rows = await q.all<Row>(
          `SELECT * FROM reservations WHERE expires_at < ?
           OR owner NOT IN (SELECT id FROM runtimes WHERE last_seen >= ?)${dead} ORDER BY role, id`,
          [req.now, req.ownerStaleBefore, ...req.deadOwners],
        );
        const out: CostRecord[] = [];
        for (const x of rows) out.push(await chargeOrphan(db, q, x, req.now));
        if (req.deadOwners.length)
          await q.run(`DELETE FROM runtimes WHERE id IN (${req.deadOwners.map(() => '?').join(', ')})`, req.deadOwners);
        return out;
      });
    },

    async heartbeatOwner(o: { id: string; host: string; pid: number; lastSeen: number }): Promise<void> {
      await db.run(
        `INSERT INTO runtimes (id, host, pid, last_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen`,
        [o.id, o.host, o.pid, o.lastSeen],
      );
    },

    async removeOwner(id: string): Promise<void> {
      await db.run('DELETE FROM runtimes WHERE id = ?', [id]);
    },

    async listOwners(): Promise<{ id: string; host: string; pid: number; lastSeen: number }[]> {
      const rows = await db.all('SELECT * FROM runtimes ORDER BY id');
      return rows.map((r) => ({ id: str(r.id), host: str(r.host), pid: num(r.pid), lastSeen: num(r.last_seen) }));
    },

    async reconcileCost(id: string, actual: number, now: number): Promise<CostRecord | undefined> {
      return db.tx(async (q) => {
        const r = await q.get<Row>(`SELECT * FROM cost_records WHERE id = ?${forUpdate(db)}`, [id]);
        if (r?.outcome !== 'unsettled') return undefined;
        const delta = actual - num(r.cost_microcents);
        for (const p of [str(r.month_key), str(r.week_key)].sort()) {
          await q.run(`UPDATE budget_spend SET spent = ${greatest(db)}(0, spent + ?) WHERE role = ? AND period = ?`, [
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
    },

    async insertAlert(a: BudgetAlertRow): Promise<boolean> {
      const n = await db.run(
        'INSERT INTO alerts (id, role, period, level, ratio, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
        [a.id, a.role, a.period, a.level, a.ratio, a.now],
      );
      return n > 0;
    },
  };
  return store;
}
