import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { notFoundError, StratumError } from '@stratumiops/shared/errors';
import Database from 'better-sqlite3';
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

const schema = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
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
  host TEXT NOT NULL, operation TEXT NOT NULL, run_id TEXT, created_at TEXT NOT NULL);
`;

type Row = Record<string, unknown>;
const j = (v: unknown) => JSON.stringify(v);
const p = <T>(v: unknown): T => (v == null ? (null as T) : (JSON.parse(String(v)) as T));

export function resourceFromRow(r: Row): ResourceRecord {
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

export function runFromRow(r: Row): RunRecord {
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

export function taskFromRow(r: Row): TaskRecord {
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

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Refuses a state file that exists but cannot be a prov state, before SQLite touches it: empty (a 0-byte
 * file would otherwise read as a new, empty state, and the next apply would create everything again),
 * shorter than its own header says (truncated), or not SQLite at all. True when the file exists.
 */
function inspectStateFile(location: string): boolean {
  let size: number;
  try {
    size = statSync(location).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw unusableState(location, `cannot be read: ${(e as Error).message}`);
  }
  if (size === 0) {
    // Pages still in the write-ahead log after a crash: SQLite reads them from there.
    if (fileSize(`${location}-wal`) > 0) return true;
    throw unusableState(location, 'is empty (0 bytes)');
  }
  const head = Buffer.alloc(100);
  const fd = openSync(location, 'r');
  let got: number;
  try {
    got = readSync(fd, head, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  const magic = head.subarray(0, Math.min(got, 16)).toString('latin1');
  if (magic !== SQLITE_MAGIC) {
    throw unusableState(
      location,
      got < 16 && SQLITE_MAGIC.startsWith(magic) ? `is truncated (${size} bytes)` : 'is not a SQLite database',
    );
  }
  if (got < 100) throw unusableState(location, `is truncated (${size} bytes, shorter than its header)`);
  const raw = head.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const pages = head.readUInt32BE(28);
  // The page count in the header is valid when its version number matches the change counter.
  const countValid = head.readUInt32BE(92) === head.readUInt32BE(24);
  if (countValid && pages > 0 && size < pages * pageSize) {
    throw unusableState(location, `is truncated (${size} of ${pages * pageSize} bytes)`);
  }
  return true;
}

function fileSize(f: string): number {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
}

/** After opening an existing file: it must be intact and hold prov's tables (a lineage), else the problem. */
function verifyOpenedState(db: Database.Database): string | undefined {
  try {
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') return `is corrupt (${String(check)})`;
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    if (!tables.has('meta') || !tables.has('resources')) {
      return tables.size === 0
        ? 'holds no tables (an empty database, not a prov state)'
        : `is a SQLite database but not a prov state (tables: ${[...tables].sort().join(', ')})`;
    }
    const lineage = db.prepare("SELECT v FROM meta WHERE k = 'lineage'").get() as { v: string } | undefined;
    if (!lineage) return 'has no lineage (not a prov state, or a damaged one)';
    return undefined;
  } catch (e) {
    return `is not a readable SQLite database (${(e as Error).message})`;
  }
}

/** Exit 1, naming the file and what to do; never a silent new state. */
function unusableState(location: string, problem: string): StratumError {
  return new StratumError('failure', `state file ${location} ${problem}: refusing to use it as the state`, {
    hint: `restore ${location} from a backup (with its -wal file if there is one); only if this workspace never applied anything, move the file away to start a new, empty state`,
    details: { state: location, problem },
  });
}

/** The default store: one SQLite file (WAL), one transaction per state change. */
export class SqliteStateStore implements StateStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(readonly location: string) {
    mkdirSync(dirname(location), { recursive: true });
    const existing = inspectStateFile(location);
    try {
      this.db = new Database(location);
    } catch (e) {
      throw unusableState(location, `cannot be opened: ${(e as Error).message}`);
    }
    if (existing) {
      // Checked before anything is written: a file that is not a prov state is left exactly as it was.
      const problem = verifyOpenedState(this.db);
      if (problem) {
        this.db.close();
        throw unusableState(location, problem);
      }
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: durable across a process crash (kill -9), ~35 µs per checkpoint (notes §6).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(schema);
    this.db.prepare("INSERT OR IGNORE INTO meta (k, v) VALUES ('serial', '0'), ('lineage', ?)").run(randomUUID());
    const db = this.db;
    this.stmts = {
      bump: db.prepare("UPDATE meta SET v = CAST(v AS INTEGER) + 1 WHERE k = 'serial' RETURNING v"),
      meta: db.prepare('SELECT k, v FROM meta'),
      list: db.prepare('SELECT * FROM resources ORDER BY address'),
      get: db.prepare('SELECT * FROM resources WHERE address = ?'),
      put: db.prepare(`INSERT INTO resources (address, kind, name, provider, attrs, outputs, deps, sensitive, updated_at)
        VALUES (@address, @kind, @name, @provider, @attrs, @outputs, @deps, @sensitive, @updated_at)
        ON CONFLICT (address) DO UPDATE SET kind = excluded.kind, name = excluded.name, provider = excluded.provider,
        attrs = excluded.attrs, outputs = excluded.outputs, deps = excluded.deps, sensitive = excluded.sensitive,
        updated_at = excluded.updated_at`),
      remove: db.prepare('DELETE FROM resources WHERE address = ?'),
      task: db.prepare(`INSERT INTO tasks (run_id, address, action, status, attempts, before, after, error, seq, updated_at)
        VALUES (@run_id, @address, @action, @status, @attempts, @before, @after, @error, @seq, @updated_at)
        ON CONFLICT (run_id, address) DO UPDATE SET action = excluded.action, status = excluded.status,
        attempts = excluded.attempts, before = excluded.before, after = excluded.after, error = excluded.error,
        seq = excluded.seq, updated_at = excluded.updated_at`),
      tasks: db.prepare('SELECT * FROM tasks WHERE run_id = ? ORDER BY seq, address'),
      lockGet: db.prepare('SELECT * FROM lock WHERE one = 1'),
      lockPut: db.prepare(`INSERT OR REPLACE INTO lock (one, id, owner, pid, host, operation, run_id, created_at)
        VALUES (1, @id, @owner, @pid, @host, @operation, @run_id, @created_at)`),
      lockDel: db.prepare('DELETE FROM lock WHERE id = ?'),
    };
  }

  private bump(): number {
    const r = this.stmts.bump.get() as { v: string };
    return Number(r.v);
  }

  private putRow(rec: ResourceRecord) {
    this.stmts.put.run({
      ...rec,
      attrs: j(rec.attrs),
      outputs: j(rec.outputs),
      deps: j(rec.deps),
      sensitive: j(rec.sensitive),
    });
  }

  async meta() {
    const rows = this.stmts.meta.all() as { k: string; v: string }[];
    const m = Object.fromEntries(rows.map((r) => [r.k, r.v]));
    return { serial: Number(m.serial ?? 0), lineage: String(m.lineage ?? '') };
  }

  async list() {
    return (this.stmts.list.all() as Row[]).map(resourceFromRow);
  }

  async get(address: string) {
    const r = this.stmts.get.get(address) as Row | undefined;
    return r ? resourceFromRow(r) : undefined;
  }

  async put(rec: ResourceRecord) {
    return this.db.transaction(() => {
      this.putRow(rec);
      return this.bump();
    })();
  }

  async remove(address: string) {
    return this.db.transaction(() => {
      if (this.stmts.remove.run(address).changes === 0) throw notFoundError(`no resource ${address} in state`);
      return this.bump();
    })();
  }

  async move(from: string, to: string) {
    return this.db.transaction(() => {
      const r = this.stmts.get.get(from) as Row | undefined;
      if (!r) throw notFoundError(`no resource ${from} in state`);
      if (this.stmts.get.get(to)) throw notFoundError(`${to} already exists in state`);
      const rec = resourceFromRow(r);
      this.stmts.remove.run(from);
      const [kind, ...rest] = to.split('.');
      this.putRow({ ...rec, address: to, kind: kind ?? rec.kind, name: rest.join('.') || rec.name });
      return this.bump();
    })();
  }

  async lock(req: LockRequest): Promise<LockHandle> {
    const info = newLockInfo(req);
    // BEGIN IMMEDIATE: two processes cannot both see "no lock" and both insert.
    this.db
      .transaction(() => {
        const existing = this.stmts.lockGet.get() as Row | undefined;
        if (existing) {
          const l = lockFromRow(existing);
          if (!req.takeover?.(l, isStale(l))) throw lockConflict(l, this.location);
        }
        this.stmts.lockPut.run(info);
      })
      .immediate();
    return {
      info,
      release: async () => {
        this.stmts.lockDel.run(info.id);
      },
    };
  }

  async lockStatus() {
    const r = this.stmts.lockGet.get() as Row | undefined;
    return r ? lockFromRow(r) : undefined;
  }

  async forceUnlock(id: string) {
    const r = this.stmts.lockGet.get() as Row | undefined;
    if (!r || String(r.id) !== id) {
      throw notFoundError(r ? `the lock is ${String(r.id)}, not ${id}` : 'the state is not locked', {
        hint: 'see prov state lock status',
      });
    }
    this.stmts.lockDel.run(id);
    return lockFromRow(r);
  }

  async createRun(run: RunRecord) {
    this.db
      .prepare(`INSERT INTO runs (id, kind, status, who, host, pid, started_at, finished_at, plan, options, error, summary)
        VALUES (@id, @kind, @status, @who, @host, @pid, @started_at, @finished_at, @plan, @options, @error, @summary)`)
      .run({ ...run, plan: j(run.plan), options: j(run.options), summary: run.summary ? j(run.summary) : null });
  }

  async finishRun(
    id: string,
    status: RunStatus,
    patch: { error?: string | null; summary?: Record<string, unknown> } = {},
  ) {
    this.db
      .prepare('UPDATE runs SET status = ?, finished_at = ?, error = ?, summary = ? WHERE id = ?')
      .run(status, new Date().toISOString(), patch.error ?? null, patch.summary ? j(patch.summary) : null, id);
  }

  async setRunStatus(id: string, status: RunStatus) {
    this.db.prepare('UPDATE runs SET status = ? WHERE id = ?').run(status, id);
  }

  async getRun(id: string) {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return r ? runFromRow(r) : undefined;
  }

  async listRuns(limit = 50) {
    return (this.db.prepare('SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?').all(limit) as Row[]).map(
      runFromRow,
    );
  }

  async unfinishedRuns() {
    return (
      this.db
        .prepare("SELECT * FROM runs WHERE status IN ('running', 'interrupted') ORDER BY started_at")
        .all() as Row[]
    ).map(runFromRow);
  }

  async tasks(runId: string) {
    return (this.stmts.tasks.all(runId) as Row[]).map(taskFromRow);
  }

  private pending: { task: TaskRecord; change: StateChange; done(serial: number): void; fail(e: unknown): void }[] = [];

  /**
   * Group commit: checkpoints requested in the same turn of the event loop (parallel tasks finishing together)
   * share one transaction. Each caller's promise resolves only after that transaction committed, so a task is
   * durable before anything that depends on it starts; the commit, not the statements, is what costs.
   */
  checkpoint(task: TaskRecord, change: StateChange): Promise<number> {
    return new Promise((done, fail) => {
      this.pending.push({ task, change, done, fail });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush() {
    const batch = this.pending;
    this.pending = [];
    let serials: number[];
    try {
      serials = this.db.transaction(() =>
        batch.map(({ task, change }) => {
          this.stmts.task.run({
            ...task,
            before: task.before ? j(task.before) : null,
            after: task.after ? j(task.after) : null,
          });
          if (!change) return -1;
          if ('put' in change) this.putRow(change.put);
          else this.stmts.remove.run(change.remove);
          return this.bump();
        }),
      )();
    } catch (e) {
      for (const b of batch) b.fail(e);
      return;
    }
    batch.forEach((b, i) => {
      b.done(serials[i]!);
    });
  }

  async close() {
    if (this.pending.length) this.flush();
    this.db.close();
  }
}
