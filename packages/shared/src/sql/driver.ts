/**
 * A small SQL driver: the few calls a store needs, the same over SQLite and PostgreSQL. Statements use `?`
 * placeholders (the PostgreSQL driver numbers them), so one store is written once for both.
 */
export type Row = Record<string, unknown>;

export interface SqlQueryer {
  all<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

export interface SqlDriver extends SqlQueryer {
  readonly dialect: 'sqlite' | 'postgresql';
  /** One transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: one pooled client, retried on deadlock). */
  tx<T>(fn: (q: SqlQueryer) => Promise<T>): Promise<T>;
  /** Several DDL statements. */
  exec(sql: string): Promise<void>;
  /** Runs inside the migration transaction first (PostgreSQL: an advisory lock against concurrent migrators). */
  lockForMigration(q: SqlQueryer): Promise<void>;
  /** Unique-violation test for this driver's errors. */
  isUniqueViolation(e: unknown): boolean;
  /**
   * One connection of its own until released, outside any transaction: for state that lives as long as a
   * connection, such as a PostgreSQL advisory lock held through a long operation. Released, the connection is
   * closed (never handed to another caller with that state). SQLite has one connection: the session is the driver.
   */
  session(): Promise<SqlSession>;
  close(): Promise<void>;
}

export interface SqlSession extends SqlQueryer {
  release(): Promise<void>;
  /** Calls `cb` once if the session ends other than by release() (its server session killed, the network lost). */
  onLost?(cb: (reason: string) => void): void;
}

/**
 * Applies the migrations not applied yet, in order, each with its version row, in one transaction (concurrent
 * migrators wait on the driver's lock). `migrations[i]` is version i + 1: append, never edit. Returns the version.
 */
export async function migrate(
  db: SqlDriver,
  migrations: readonly string[],
  table = 'schema_migrations',
): Promise<number> {
  return db.tx(async (q) => {
    await db.lockForMigration(q);
    // Under the lock: two migrators creating the table at once on PostgreSQL collide in its catalog otherwise.
    await q.run(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`);
    const row = await q.get<{ v: unknown }>(`SELECT MAX(version) AS v FROM ${table}`);
    const current = row?.v === null || row?.v === undefined ? 0 : Number(row.v);
    for (let v = current + 1; v <= migrations.length; v++) {
      for (const stmt of splitStatements(migrations[v - 1] as string)) await q.run(stmt);
      await q.run(`INSERT INTO ${table} (version, applied_at) VALUES (?, ?)`, [v, Date.now()]);
    }
    return migrations.length;
  });
}

/** Splits DDL on semicolons at line ends (migrations hold no string literals with `;`). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `LEAST`/`GREATEST` are `MIN`/`MAX` in SQLite's scalar form. */
export const least = (db: Pick<SqlDriver, 'dialect'>): string => (db.dialect === 'postgresql' ? 'LEAST' : 'MIN');
export const greatest = (db: Pick<SqlDriver, 'dialect'>): string => (db.dialect === 'postgresql' ? 'GREATEST' : 'MAX');
/** Row lock for a read inside a transaction (SQLite's BEGIN IMMEDIATE already holds the write lock). */
export const forUpdate = (db: Pick<SqlDriver, 'dialect'>): string => (db.dialect === 'postgresql' ? ' FOR UPDATE' : '');
