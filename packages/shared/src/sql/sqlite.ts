import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { SqlDriver, SqlQueryer, SqlSession } from './driver.js';

type Db = Database.Database;
type Stmt = Database.Statement;

const fix = (params: unknown[] = []): unknown[] =>
  params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));

/**
 * better-sqlite3 in WAL mode. Calls are synchronous underneath; an in-process lock keeps one async transaction
 * from interleaving with other callers, and BEGIN IMMEDIATE (with busy_timeout) serialises writers across
 * processes (CLI, daemon, workers on one machine).
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Db;
  private readonly stmts = new Map<string, Stmt>();
  private lock: Promise<void> = Promise.resolve();
  private readonly direct: SqlQueryer;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = NORMAL');
    this.direct = {
      all: async <T>(sql: string, params?: unknown[]) => this.stmt(sql).all(...fix(params)) as T[],
      get: async <T>(sql: string, params?: unknown[]) => this.stmt(sql).get(...fix(params)) as T | undefined,
      run: async (sql: string, params?: unknown[]) => this.stmt(sql).run(...fix(params)).changes,
    };
  }

  private stmt(sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => {
      release = r;
    });
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  all<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.locked(() => this.direct.all<T>(sql, params));
  }
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined> {
    return this.locked(() => this.direct.get<T>(sql, params));
  }
  run(sql: string, params?: unknown[]): Promise<number> {
    return this.locked(() => this.direct.run(sql, params));
  }

  tx<T>(fn: (q: SqlQueryer) => Promise<T>): Promise<T> {
    return this.locked(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.direct);
        this.db.exec('COMMIT');
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async exec(sql: string): Promise<void> {
    await this.locked(async () => {
      this.db.exec(sql);
    });
  }

  async lockForMigration(): Promise<void> {}

  isUniqueViolation(e: unknown): boolean {
    return (
      (e as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
      (e as { code?: string })?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
    );
  }

  async session(): Promise<SqlSession> {
    return {
      all: <T>(sql: string, params?: unknown[]) => this.all<T>(sql, params),
      get: <T>(sql: string, params?: unknown[]) => this.get<T>(sql, params),
      run: (sql: string, params?: unknown[]) => this.run(sql, params),
      release: async () => {},
    };
  }

  async close(): Promise<void> {
    await this.locked(async () => {
      this.db.close();
    });
  }
}
