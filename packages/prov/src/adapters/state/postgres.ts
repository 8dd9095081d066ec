import { randomUUID } from 'node:crypto';
import { notFoundError, unavailableError } from '@stratumiops/shared/errors';
import pg from 'pg';
import { type LockRequest, lockConflict, newLockInfo, type StateStore } from '../../core/state.js';
import type {
  LockHandle,
  LockInfo,
  ResourceRecord,
  RunRecord,
  RunStatus,
  StateChange,
  TaskRecord,
} from '../../core/types.js';
import { resourceFromRow, runFromRow, taskFromRow } from './sqlite.js';

/** Advisory-lock class for prov; the second key is hashtext(workspace). */
const LOCK_CLASS = 0x70726f76; // 'prov'

const schema = `
CREATE TABLE IF NOT EXISTS prov_meta (workspace TEXT PRIMARY KEY, serial BIGINT NOT NULL, lineage TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prov_resources (
  workspace TEXT NOT NULL, address TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, provider TEXT NOT NULL,
  attrs TEXT NOT NULL, outputs TEXT NOT NULL, deps TEXT NOT NULL, sensitive TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (workspace, address));
CREATE TABLE IF NOT EXISTS prov_runs (
  workspace TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, who TEXT NOT NULL,
  host TEXT NOT NULL, pid INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, plan TEXT NOT NULL,
  options TEXT NOT NULL, error TEXT, summary TEXT, PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS prov_tasks (
  workspace TEXT NOT NULL, run_id TEXT NOT NULL, address TEXT NOT NULL, action TEXT NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL, before TEXT, after TEXT, error TEXT, seq INTEGER NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (workspace, run_id, address));
CREATE TABLE IF NOT EXISTS prov_lock (
  workspace TEXT PRIMARY KEY, id TEXT NOT NULL, owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  operation TEXT NOT NULL, run_id TEXT, created_at TEXT NOT NULL);
`;

type Row = Record<string, unknown>;
const j = (v: unknown) => (v == null ? null : JSON.stringify(v));

/**
 * PostgreSQL state for teams. The lock is a session advisory lock held on a dedicated connection, as
 * Terraform's pg backend does: the server frees it when that session dies (kill -9 included). A row beside
 * it names the owner for the error message and `state lock status`.
 */
export class PostgresStateStore implements StateStore {
  readonly backend = 'postgres' as const;
  private constructor(
    readonly location: string,
    private readonly db: pg.Client,
    private readonly url: string,
    private readonly workspace: string,
  ) {}

  static async open(url: string, workspace = process.env.PROV_WORKSPACE || 'default'): Promise<PostgresStateStore> {
    const db = new pg.Client({ connectionString: url });
    try {
      await db.connect();
    } catch (e) {
      throw unavailableError(`cannot reach the PostgreSQL state at ${redactUrl(url)}: ${(e as Error).message}`, {
        hint: 'check the state setting (PROV_STATE) and that the server is up',
      });
    }
    db.on('error', () => {});
    await db.query('BEGIN');
    await db.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_CLASS]);
    await db.query(schema);
    await db.query('INSERT INTO prov_meta (workspace, serial, lineage) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING', [
      workspace,
      randomUUID(),
    ]);
    await db.query('COMMIT');
    return new PostgresStateStore(`${redactUrl(url)} (workspace ${workspace})`, db, url, workspace);
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** One transaction at a time on the shared connection (the orchestrator checkpoints from parallel tasks). */
  private tx<T>(fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      await this.db.query('BEGIN');
      try {
        const r = await fn();
        await this.db.query('COMMIT');
        return r;
      } catch (e) {
        await this.db.query('ROLLBACK');
        throw e;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  private async bump(): Promise<number> {
    const r = await this.db.query('UPDATE prov_meta SET serial = serial + 1 WHERE workspace = $1 RETURNING serial', [
      this.workspace,
    ]);
    return Number(r.rows[0]?.serial);
  }

  private async putRow(rec: ResourceRecord) {
    await this.db.query(
      `INSERT INTO prov_resources (workspace, address, kind, name, provider, attrs, outputs, deps, sensitive, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (workspace, address) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
       provider = EXCLUDED.provider, attrs = EXCLUDED.attrs, outputs = EXCLUDED.outputs, deps = EXCLUDED.deps,
       sensitive = EXCLUDED.sensitive, updated_at = EXCLUDED.updated_at`,
      [
        this.workspace,
        rec.address,
        rec.kind,
        rec.name,
        rec.provider,
        j(rec.attrs),
        j(rec.outputs),
        j(rec.deps),
        j(rec.sensitive),
        rec.updated_at,
      ],
    );
  }

  async meta() {
    const r = await this.db.query('SELECT serial, lineage FROM prov_meta WHERE workspace = $1', [this.workspace]);
    return { serial: Number(r.rows[0]?.serial ?? 0), lineage: String(r.rows[0]?.lineage ?? '') };
  }

  async list() {
    const r = await this.db.query('SELECT * FROM prov_resources WHERE workspace = $1 ORDER BY address', [
      this.workspace,
    ]);
    return r.rows.map(resourceFromRow);
  }

  async get(address: string) {
    const r = await this.db.query('SELECT * FROM prov_resources WHERE workspace = $1 AND address = $2', [
      this.workspace,
      address,
    ]);
    return r.rows[0] ? resourceFromRow(r.rows[0]) : undefined;
  }

  put(rec: ResourceRecord) {
    return this.tx(async () => {
      await this.putRow(rec);
      return this.bump();
    });
  }

  remove(address: string) {
    return this.tx(async () => {
      const r = await this.db.query('DELETE FROM prov_resources WHERE workspace = $1 AND address = $2', [
        this.workspace,
        address,
      ]);
      if (r.rowCount === 0) throw notFoundError(`no resource ${address} in state`);
      return this.bump();
    });
  }

  move(from: string, to: string) {
    return this.tx(async () => {
      const rec = await this.get(from);
      if (!rec) throw notFoundError(`no resource ${from} in state`);
      if (await this.get(to)) throw notFoundError(`${to} already exists in state`);
      await this.db.query('DELETE FROM prov_resources WHERE workspace = $1 AND address = $2', [this.workspace, from]);
      const [kind, ...rest] = to.split('.');
      await this.putRow({ ...rec, address: to, kind: kind ?? rec.kind, name: rest.join('.') || rec.name });
      return this.bump();
    });
  }

  async lock(req: LockRequest): Promise<LockHandle> {
    const info = newLockInfo(req);
    const holder = new pg.Client({ connectionString: this.url });
    await holder.connect();
    holder.on('error', () => {});
    const got = await holder.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_CLASS, this.workspace]);
    if (!got.rows[0]?.ok) {
      await holder.end();
      const owner = await this.lockRow();
      throw lockConflict(
        owner ?? { ...info, owner: 'another session', id: '?', pid: 0, host: '?', run_id: null },
        this.location,
      );
    }
    await holder.query(
      `INSERT INTO prov_lock (workspace, id, owner, pid, host, operation, run_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (workspace) DO UPDATE SET id = EXCLUDED.id, owner = EXCLUDED.owner, pid = EXCLUDED.pid,
       host = EXCLUDED.host, operation = EXCLUDED.operation, run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at`,
      [this.workspace, info.id, info.owner, info.pid, info.host, info.operation, info.run_id, info.created_at],
    );
    return {
      info,
      release: async () => {
        try {
          await holder.query('DELETE FROM prov_lock WHERE workspace = $1 AND id = $2', [this.workspace, info.id]);
          await holder.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, this.workspace]);
        } finally {
          await holder.end().catch(() => {});
        }
      },
    };
  }

  private async lockRow(): Promise<LockInfo | undefined> {
    const r = await this.db.query('SELECT * FROM prov_lock WHERE workspace = $1', [this.workspace]);
    const row = r.rows[0] as Row | undefined;
    if (!row) return undefined;
    return {
      id: String(row.id),
      owner: String(row.owner),
      pid: Number(row.pid),
      host: String(row.host),
      operation: String(row.operation),
      run_id: (row.run_id as string | null) ?? null,
      created_at: String(row.created_at),
    };
  }

  /** The backend pid holding the advisory lock, if a session holds it. */
  private async holderBackend(): Promise<number | undefined> {
    const r = await this.db.query(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid
       AND objid = (hashtext($2)::bigint & 4294967295)::oid AND granted`,
      [LOCK_CLASS, this.workspace],
    );
    return r.rows[0] ? Number(r.rows[0].pid) : undefined;
  }

  async lockStatus() {
    // A row without a live session holding the advisory lock is left over from a dead session: not a lock.
    if ((await this.holderBackend()) === undefined) return undefined;
    return this.lockRow();
  }

  async forceUnlock(id: string) {
    const row = await this.lockRow();
    const backend = await this.holderBackend();
    if (!row || backend === undefined || row.id !== id) {
      throw notFoundError(
        row && backend !== undefined ? `the lock is ${row.id}, not ${id}` : 'the state is not locked',
        {
          hint: 'see prov state lock status',
        },
      );
    }
    await this.db.query('SELECT pg_terminate_backend($1)', [backend]);
    await this.db.query('DELETE FROM prov_lock WHERE workspace = $1 AND id = $2', [this.workspace, id]);
    return row;
  }

  async createRun(run: RunRecord) {
    await this.db.query(
      `INSERT INTO prov_runs (workspace, id, kind, status, who, host, pid, started_at, finished_at, plan, options,
       error, summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        this.workspace,
        run.id,
        run.kind,
        run.status,
        run.who,
        run.host,
        run.pid,
        run.started_at,
        run.finished_at,
        j(run.plan),
        j(run.options),
        run.error,
        j(run.summary),
      ],
    );
  }

  async finishRun(
    id: string,
    status: RunStatus,
    patch: { error?: string | null; summary?: Record<string, unknown> } = {},
  ) {
    await this.db.query(
      'UPDATE prov_runs SET status = $1, finished_at = $2, error = $3, summary = $4 WHERE workspace = $5 AND id = $6',
      [status, new Date().toISOString(), patch.error ?? null, j(patch.summary), this.workspace, id],
    );
  }

  async setRunStatus(id: string, status: RunStatus) {
    await this.db.query('UPDATE prov_runs SET status = $1 WHERE workspace = $2 AND id = $3', [
      status,
      this.workspace,
      id,
    ]);
  }

  async getRun(id: string) {
    const r = await this.db.query('SELECT * FROM prov_runs WHERE workspace = $1 AND id = $2', [this.workspace, id]);
    return r.rows[0] ? runFromRow(r.rows[0]) : undefined;
  }

  async listRuns(limit = 50) {
    const r = await this.db.query(
      'SELECT * FROM prov_runs WHERE workspace = $1 ORDER BY started_at DESC, id DESC LIMIT $2',
      [this.workspace, limit],
    );
    return r.rows.map(runFromRow);
  }

  async unfinishedRuns() {
    const r = await this.db.query(
      "SELECT * FROM prov_runs WHERE workspace = $1 AND status IN ('running', 'interrupted') ORDER BY started_at",
      [this.workspace],
    );
    return r.rows.map(runFromRow);
  }

  async tasks(runId: string) {
    const r = await this.db.query(
      'SELECT * FROM prov_tasks WHERE workspace = $1 AND run_id = $2 ORDER BY seq, address',
      [this.workspace, runId],
    );
    return r.rows.map(taskFromRow);
  }

  checkpoint(task: TaskRecord, change: StateChange) {
    return this.tx(async () => {
      await this.db.query(
        `INSERT INTO prov_tasks (workspace, run_id, address, action, status, attempts, before, after, error, seq,
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (workspace, run_id, address) DO UPDATE SET action = EXCLUDED.action, status = EXCLUDED.status,
         attempts = EXCLUDED.attempts, before = EXCLUDED.before, after = EXCLUDED.after, error = EXCLUDED.error,
         seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at`,
        [
          this.workspace,
          task.run_id,
          task.address,
          task.action,
          task.status,
          task.attempts,
          j(task.before),
          j(task.after),
          task.error,
          task.seq,
          task.updated_at,
        ],
      );
      if (!change) return -1;
      if ('put' in change) await this.putRow(change.put);
      else
        await this.db.query('DELETE FROM prov_resources WHERE workspace = $1 AND address = $2', [
          this.workspace,
          change.remove,
        ]);
      return this.bump();
    });
  }

  async close() {
    await this.db.end().catch(() => {});
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
