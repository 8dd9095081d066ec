import { randomUUID } from 'node:crypto';
import { conflictError, notFoundError } from '@stratumiops/shared/errors';
import { migrate, type Row, type SqlDriver, type SqlQueryer, type SqlSession } from '@stratumiops/shared/sql/driver';
import { isStale, type LockRequest, lockConflict, newLockInfo, type StateStore } from '../../core/state.js';
import type {
  LockHandle,
  LockInfo,
  ResourceRecord,
  RunRecord,
  RunStatus,
  StateChange,
  TaskRecord,
} from '../../core/types.js';

/** Advisory-lock class for prov on PostgreSQL; the second key is hashtext(workspace). */
const LOCK_CLASS = 0x70726f76; // 'prov'

/**
 * The tables each backend started with (frozen: they are version 1, and on SQLite 2, of each database). A
 * SQLite file is prov's alone (unprefixed tables; its first layout had no workspace column, version 2 adds it);
 * a PostgreSQL database may be shared, so its tables carry `prov_` and one database holds several workspaces.
 */
const BASE: Record<SqlDriver['dialect'], string[]> = {
  sqlite: [
    `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
  address TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, provider TEXT NOT NULL,
  attrs TEXT NOT NULL, outputs TEXT NOT NULL, deps TEXT NOT NULL, sensitive TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, who TEXT NOT NULL, host TEXT NOT NULL,
  pid INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, plan TEXT NOT NULL, options TEXT NOT NULL,
  error TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS tasks (
  run_id TEXT NOT NULL, address TEXT NOT NULL, action TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
  before TEXT, after TEXT, error TEXT, seq INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (run_id, address));
CREATE TABLE IF NOT EXISTS lock (
  one INTEGER PRIMARY KEY CHECK (one = 1), id TEXT NOT NULL, owner TEXT NOT NULL, pid INTEGER NOT NULL,
  host TEXT NOT NULL, operation TEXT NOT NULL, run_id TEXT, created_at TEXT NOT NULL);`,
    // Rebuilt with a workspace column, the layout PostgreSQL has always had.
    `CREATE TABLE meta_ (workspace TEXT PRIMARY KEY, serial BIGINT NOT NULL, lineage TEXT NOT NULL);
INSERT INTO meta_ SELECT 'default', CAST(s.v AS INTEGER), l.v FROM meta s, meta l WHERE s.k = 'serial' AND l.k = 'lineage';
DROP TABLE meta;
ALTER TABLE meta_ RENAME TO meta;
CREATE TABLE resources_ (
  workspace TEXT NOT NULL, address TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, provider TEXT NOT NULL,
  attrs TEXT NOT NULL, outputs TEXT NOT NULL, deps TEXT NOT NULL, sensitive TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (workspace, address));
INSERT INTO resources_ SELECT 'default', address, kind, name, provider, attrs, outputs, deps, sensitive, updated_at FROM resources;
DROP TABLE resources;
ALTER TABLE resources_ RENAME TO resources;
CREATE TABLE runs_ (
  workspace TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, who TEXT NOT NULL,
  host TEXT NOT NULL, pid INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, plan TEXT NOT NULL,
  options TEXT NOT NULL, error TEXT, summary TEXT, PRIMARY KEY (workspace, id));
INSERT INTO runs_ SELECT 'default', id, kind, status, who, host, pid, started_at, finished_at, plan, options, error, summary FROM runs;
DROP TABLE runs;
ALTER TABLE runs_ RENAME TO runs;
CREATE TABLE tasks_ (
  workspace TEXT NOT NULL, run_id TEXT NOT NULL, address TEXT NOT NULL, action TEXT NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL, before TEXT, after TEXT, error TEXT, seq INTEGER NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (workspace, run_id, address));
INSERT INTO tasks_ SELECT 'default', run_id, address, action, status, attempts, before, after, error, seq, updated_at FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_ RENAME TO tasks;
CREATE TABLE lock_ (
  workspace TEXT PRIMARY KEY, id TEXT NOT NULL, owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  operation TEXT NOT NULL, run_id TEXT, created_at TEXT NOT NULL);
INSERT INTO lock_ SELECT 'default', id, owner, pid, host, operation, run_id, created_at FROM lock;
DROP TABLE lock;
ALTER TABLE lock_ RENAME TO lock;`,
  ],
  postgresql: [
    `CREATE TABLE IF NOT EXISTS prov_meta (workspace TEXT PRIMARY KEY, serial BIGINT NOT NULL, lineage TEXT NOT NULL);
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
  operation TEXT NOT NULL, run_id TEXT, created_at TEXT NOT NULL);`,
  ],
};

/** Migrations both backends share, after their base (`{p}` is the table prefix). Append, never edit. */
const COMMON: string[] = [
  `CREATE TABLE IF NOT EXISTS {p}clusters (
  workspace TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (workspace, name));`,
];

const j = (v: unknown) => (v == null ? null : JSON.stringify(v));
const p = <T>(v: unknown): T => (v == null ? (null as T) : (JSON.parse(String(v)) as T));

function resourceFromRow(r: Row): ResourceRecord {
  return {
    address: String(r.address),
    kind: String(r.kind),
    name: String(r.name),
    provider: String(r.provider),
    attrs: p(r.attrs),
    outputs: p(r.outputs),
    deps: p(r.deps),
    sensitive: p(r.sensitive),
    updated_at: String(r.updated_at),
  };
}

function runFromRow(r: Row): RunRecord {
  return {
    id: String(r.id),
    kind: r.kind as RunRecord['kind'],
    status: r.status as RunStatus,
    who: String(r.who),
    host: String(r.host),
    pid: Number(r.pid),
    started_at: String(r.started_at),
    finished_at: (r.finished_at as string | null) ?? null,
    plan: p(r.plan),
    options: p(r.options),
    error: (r.error as string | null) ?? null,
    summary: p(r.summary),
  };
}

function taskFromRow(r: Row): TaskRecord {
  return {
    run_id: String(r.run_id),
    address: String(r.address),
    action: r.action as TaskRecord['action'],
    status: r.status as TaskRecord['status'],
    attempts: Number(r.attempts),
    before: p(r.before),
    after: p(r.after),
    error: (r.error as string | null) ?? null,
    seq: Number(r.seq),
    updated_at: String(r.updated_at),
  };
}

function lockFromRow(r: Row): LockInfo {
  return {
    id: String(r.id),
    owner: String(r.owner),
    pid: Number(r.pid),
    host: String(r.host),
    operation: String(r.operation),
    run_id: (r.run_id as string | null) ?? null,
    created_at: String(r.created_at),
  };
}

/**
 * prov's state over the shared SQL driver, the same statements on SQLite and PostgreSQL. Every change is one
 * transaction that bumps the serial. The lock: on SQLite a row written under BEGIN IMMEDIATE (a crashed holder
 * leaves it, stale, for resume to take over); on PostgreSQL a session advisory lock on a connection of its
 * own, which the server frees when that session dies (kill -9 included), with a row beside it naming the owner.
 */
export class SqlStateStore implements StateStore {
  readonly backend: 'sqlite' | 'postgres';
  private readonly t: Record<'meta' | 'resources' | 'runs' | 'tasks' | 'lock' | 'clusters', string>;
  private readonly ready: Promise<void>;

  constructor(
    readonly location: string,
    protected readonly db: SqlDriver,
    private readonly workspace = 'default',
  ) {
    this.backend = db.dialect === 'postgresql' ? 'postgres' : 'sqlite';
    const pre = db.dialect === 'postgresql' ? 'prov_' : '';
    this.t = {
      meta: `${pre}meta`,
      resources: `${pre}resources`,
      runs: `${pre}runs`,
      tasks: `${pre}tasks`,
      lock: `${pre}lock`,
      clusters: `${pre}clusters`,
    };
    this.ready = this.init(pre);
    // Awaited by every call; an unobserved failure here is reported there, not as an unhandled rejection.
    this.ready.catch(() => {});
  }

  private async init(pre: string) {
    const migrations = [...BASE[this.db.dialect], ...COMMON.map((m) => m.replaceAll('{p}', pre))];
    await migrate(this.db, migrations, `${pre}schema_migrations`);
    await this.db.run(
      `INSERT INTO ${this.t.meta} (workspace, serial, lineage) VALUES (?, 0, ?) ON CONFLICT DO NOTHING`,
      [this.workspace, randomUUID()],
    );
  }

  /** Resolves once the tables are there (a PostgreSQL opener awaits it to report a bad server at once). */
  opened(): Promise<void> {
    return this.ready;
  }

  private async bump(q: SqlQueryer): Promise<number> {
    const r = await q.get<{ serial: unknown }>(
      `UPDATE ${this.t.meta} SET serial = serial + 1 WHERE workspace = ? RETURNING serial`,
      [this.workspace],
    );
    return Number(r?.serial);
  }

  private async putRow(q: SqlQueryer, rec: ResourceRecord) {
    await q.run(
      `INSERT INTO ${this.t.resources} (workspace, address, kind, name, provider, attrs, outputs, deps, sensitive, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace, address) DO UPDATE SET kind = excluded.kind, name = excluded.name,
       provider = excluded.provider, attrs = excluded.attrs, outputs = excluded.outputs, deps = excluded.deps,
       sensitive = excluded.sensitive, updated_at = excluded.updated_at`,
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

  private async getRow(q: SqlQueryer, address: string) {
    const r = await q.get(`SELECT * FROM ${this.t.resources} WHERE workspace = ? AND address = ?`, [
      this.workspace,
      address,
    ]);
    return r ? resourceFromRow(r) : undefined;
  }

  private deleteRow(q: SqlQueryer, address: string) {
    return q.run(`DELETE FROM ${this.t.resources} WHERE workspace = ? AND address = ?`, [this.workspace, address]);
  }

  /**
   * Every write. While this store holds the PostgreSQL lock, a write refuses once the lock's session is gone
   * (reported by the session, or found missing inside the transaction): another run may hold the state now.
   */
  private async tx<T>(fn: (q: SqlQueryer) => Promise<T>): Promise<T> {
    await this.ready;
    const held = this.held;
    if (held?.lost) throw this.lostLock(held);
    return this.db.tx(async (q) => {
      if (held) {
        const r = await q.get(
          `SELECT 1 AS ok FROM pg_locks WHERE locktype = 'advisory' AND classid = ?::bigint::oid
           AND objid = (hashtext(?)::bigint & 4294967295)::oid AND granted AND pid = ?`,
          [LOCK_CLASS, this.workspace, held.pid],
        );
        if (!r) {
          held.lost ??= 'its session is gone';
          throw this.lostLock(held);
        }
      }
      return fn(q);
    });
  }

  /** PostgreSQL: the lock this store holds, its session's backend pid, and why it was lost if it was. */
  private held: { id: string; pid: number; lost?: string } | undefined;

  private lostLock(held: { id: string; lost?: string }) {
    return conflictError(`the state lock ${held.id} was lost (${held.lost}): nothing more is written to the state`, {
      hint: 'another prov run may hold the state now: see prov state lock status, then plan again or prov resume',
      details: { lock: held.id, state: this.location },
    });
  }

  async meta() {
    await this.ready;
    const r = await this.db.get(`SELECT serial, lineage FROM ${this.t.meta} WHERE workspace = ?`, [this.workspace]);
    return { serial: Number(r?.serial ?? 0), lineage: String(r?.lineage ?? '') };
  }

  async list() {
    await this.ready;
    const rows = await this.db.all(`SELECT * FROM ${this.t.resources} WHERE workspace = ? ORDER BY address`, [
      this.workspace,
    ]);
    return rows.map(resourceFromRow);
  }

  async get(address: string) {
    await this.ready;
    return this.getRow(this.db, address);
  }

  put(rec: ResourceRecord) {
    return this.tx(async (q) => {
      await this.putRow(q, rec);
      return this.bump(q);
    });
  }

  remove(address: string) {
    return this.tx(async (q) => {
      if ((await this.deleteRow(q, address)) === 0) throw notFoundError(`no resource ${address} in state`);
      return this.bump(q);
    });
  }

  move(from: string, to: string) {
    return this.tx(async (q) => {
      const rec = await this.getRow(q, from);
      if (!rec) throw notFoundError(`no resource ${from} in state`);
      if (await this.getRow(q, to)) throw notFoundError(`${to} already exists in state`);
      await this.deleteRow(q, from);
      const [kind, ...rest] = to.split('.');
      await this.putRow(q, { ...rec, address: to, kind: kind ?? rec.kind, name: rest.join('.') || rec.name });
      return this.bump(q);
    });
  }

  private writeLock(q: SqlQueryer, info: LockInfo) {
    return q.run(
      `INSERT INTO ${this.t.lock} (workspace, id, owner, pid, host, operation, run_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace) DO UPDATE SET id = excluded.id, owner = excluded.owner, pid = excluded.pid,
       host = excluded.host, operation = excluded.operation, run_id = excluded.run_id, created_at = excluded.created_at`,
      [this.workspace, info.id, info.owner, info.pid, info.host, info.operation, info.run_id, info.created_at],
    );
  }

  private async lockRow(q: SqlQueryer = this.db): Promise<LockInfo | undefined> {
    const r = await q.get(`SELECT * FROM ${this.t.lock} WHERE workspace = ?`, [this.workspace]);
    return r ? lockFromRow(r) : undefined;
  }

  /** PostgreSQL lock sessions not released yet: closing the store ends them (and with them their locks). */
  private readonly holders = new Set<SqlSession>();

  async lock(req: LockRequest): Promise<LockHandle> {
    await this.ready;
    const info = newLockInfo(req);
    if (this.db.dialect === 'sqlite') {
      // One writer at a time (BEGIN IMMEDIATE): two processes cannot both see "no lock" and both take it.
      await this.db.tx(async (q) => {
        const existing = await this.lockRow(q);
        if (existing && !req.takeover?.(existing, isStale(existing))) throw lockConflict(existing, this.location);
        await this.writeLock(q, info);
      });
      return {
        info,
        release: async () => {
          await this.db.run(`DELETE FROM ${this.t.lock} WHERE workspace = ? AND id = ?`, [this.workspace, info.id]);
        },
      };
    }
    const holder: SqlSession = await this.db.session();
    const got = await holder
      .get<{ ok: boolean }>('SELECT pg_try_advisory_lock(?, hashtext(?)) AS ok', [LOCK_CLASS, this.workspace])
      .catch(async (e) => {
        await holder.release();
        throw e;
      });
    if (!got?.ok) {
      await holder.release();
      const owner = await this.lockRow();
      throw lockConflict(
        owner ?? { ...info, owner: 'another session', id: '?', pid: 0, host: '?', run_id: null },
        this.location,
      );
    }
    // A row left by a session that died is not a lock (its advisory lock went with it): overwritten here.
    await this.writeLock(holder, info);
    const pid = await holder.get<{ pid: unknown }>('SELECT pg_backend_pid() AS pid');
    const held: { id: string; pid: number; lost?: string } = { id: info.id, pid: Number(pid?.pid) };
    holder.onLost?.((reason) => {
      held.lost ??= reason;
    });
    this.held = held;
    this.holders.add(holder);
    return {
      info,
      release: async () => {
        // A lost lock keeps the store refusing writes: the run that held it must not go on writing after it.
        if (this.held === held && !held.lost) this.held = undefined;
        this.holders.delete(holder);
        try {
          await holder.run(`DELETE FROM ${this.t.lock} WHERE workspace = ? AND id = ?`, [this.workspace, info.id]);
          await holder.get('SELECT pg_advisory_unlock(?, hashtext(?))', [LOCK_CLASS, this.workspace]);
        } finally {
          await holder.release();
        }
      },
    };
  }

  /** PostgreSQL: the backend pid holding the advisory lock, if a session holds it. */
  private async holderBackend(): Promise<number | undefined> {
    const r = await this.db.get<{ pid: unknown }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = ?::bigint::oid
       AND objid = (hashtext(?)::bigint & 4294967295)::oid AND granted`,
      [LOCK_CLASS, this.workspace],
    );
    return r ? Number(r.pid) : undefined;
  }

  async lockStatus() {
    await this.ready;
    // PostgreSQL: a row without a live session holding the advisory lock is left over from a dead one.
    if (this.db.dialect === 'postgresql' && (await this.holderBackend()) === undefined) return undefined;
    return this.lockRow();
  }

  async forceUnlock(id: string) {
    await this.ready;
    const row = await this.lockRow();
    const backend = this.db.dialect === 'postgresql' ? await this.holderBackend() : 0;
    if (!row || backend === undefined || row.id !== id) {
      throw notFoundError(
        row && backend !== undefined ? `the lock is ${row.id}, not ${id}` : 'the state is not locked',
        {
          hint: 'see prov state lock status',
        },
      );
    }
    if (backend) await this.db.get('SELECT pg_terminate_backend(?)', [backend]);
    await this.db.run(`DELETE FROM ${this.t.lock} WHERE workspace = ? AND id = ?`, [this.workspace, id]);
    return row;
  }

  async createRun(run: RunRecord) {
    await this.tx((q) =>
      q.run(
        `INSERT INTO ${this.t.runs} (workspace, id, kind, status, who, host, pid, started_at, finished_at, plan, options,
       error, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      ),
    );
  }

  async finishRun(
    id: string,
    status: RunStatus,
    patch: { error?: string | null; summary?: Record<string, unknown> } = {},
  ) {
    await this.tx((q) =>
      q.run(
        `UPDATE ${this.t.runs} SET status = ?, finished_at = ?, error = ?, summary = ? WHERE workspace = ? AND id = ?`,
        [status, new Date().toISOString(), patch.error ?? null, j(patch.summary), this.workspace, id],
      ),
    );
  }

  async setRunStatus(id: string, status: RunStatus) {
    await this.tx((q) =>
      q.run(`UPDATE ${this.t.runs} SET status = ? WHERE workspace = ? AND id = ?`, [status, this.workspace, id]),
    );
  }

  async getRun(id: string) {
    await this.ready;
    const r = await this.db.get(`SELECT * FROM ${this.t.runs} WHERE workspace = ? AND id = ?`, [this.workspace, id]);
    return r ? runFromRow(r) : undefined;
  }

  async listRuns(limit = 50) {
    await this.ready;
    const rows = await this.db.all(
      `SELECT * FROM ${this.t.runs} WHERE workspace = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
      [this.workspace, limit],
    );
    return rows.map(runFromRow);
  }

  async unfinishedRuns() {
    await this.ready;
    const rows = await this.db.all(
      `SELECT * FROM ${this.t.runs} WHERE workspace = ? AND status IN ('running', 'interrupted') ORDER BY started_at`,
      [this.workspace],
    );
    return rows.map(runFromRow);
  }

  async tasks(runId: string) {
    await this.ready;
    const rows = await this.db.all(
      `SELECT * FROM ${this.t.tasks} WHERE workspace = ? AND run_id = ? ORDER BY seq, address`,
      [this.workspace, runId],
    );
    return rows.map(taskFromRow);
  }

  async clusters() {
    await this.ready;
    const rows = await this.db.all<{ name: string; record: string }>(
      `SELECT name, record FROM ${this.t.clusters} WHERE workspace = ? ORDER BY name`,
      [this.workspace],
    );
    return rows.map((r) => ({ name: r.name, record: p<Record<string, unknown>>(r.record) }));
  }

  putCluster(name: string, record: Record<string, unknown>) {
    return this.tx(async (q) => {
      await q.run(
        `INSERT INTO ${this.t.clusters} (workspace, name, record, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (workspace, name) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at`,
        [this.workspace, name, j(record), new Date().toISOString()],
      );
      return this.bump(q);
    });
  }

  removeCluster(name: string) {
    return this.tx(async (q) => {
      const n = await q.run(`DELETE FROM ${this.t.clusters} WHERE workspace = ? AND name = ?`, [this.workspace, name]);
      if (n === 0) throw notFoundError(`no cluster ${name} in state`);
      return this.bump(q);
    });
  }

  private pending: { task: TaskRecord; change: StateChange; done(serial: number): void; fail(e: unknown): void }[] = [];
  private flushing: Promise<void> = Promise.resolve();

  /**
   * Group commit: checkpoints requested in the same turn of the event loop (parallel tasks finishing together)
   * share one transaction. Each caller's promise resolves only after that transaction committed, so a task is
   * durable before anything that depends on it starts; the commit, not the statements, is what costs.
   */
  checkpoint(task: TaskRecord, change: StateChange): Promise<number> {
    return new Promise((done, fail) => {
      this.pending.push({ task, change, done, fail });
      if (this.pending.length === 1) {
        setImmediate(() => {
          this.flushing = this.flush();
        });
      }
    });
  }

  private async flush() {
    const batch = this.pending;
    this.pending = [];
    if (!batch.length) return;
    let serials: number[];
    try {
      serials = await this.tx(async (q) => {
        const out: number[] = [];
        for (const { task, change } of batch) {
          await q.run(
            `INSERT INTO ${this.t.tasks} (workspace, run_id, address, action, status, attempts, before, after, error,
             seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (workspace, run_id, address) DO UPDATE SET action = excluded.action, status = excluded.status,
             attempts = excluded.attempts, before = excluded.before, after = excluded.after, error = excluded.error,
             seq = excluded.seq, updated_at = excluded.updated_at`,
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
          if (!change) {
            out.push(-1);
            continue;
          }
          if ('put' in change) await this.putRow(q, change.put);
          else await this.deleteRow(q, change.remove);
          out.push(await this.bump(q));
        }
        return out;
      });
    } catch (e) {
      for (const b of batch) b.fail(e);
      return;
    }
    batch.forEach((b, i) => {
      b.done(serials[i]!);
    });
  }

  async close() {
    await this.ready.catch(() => {});
    await this.flushing;
    if (this.pending.length) await this.flush();
    for (const h of this.holders) await h.release();
    this.holders.clear();
    await this.db.close();
  }
}
