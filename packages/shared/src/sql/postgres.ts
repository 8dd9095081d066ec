import pg from 'pg';
import type { SqlDriver, SqlQueryer, SqlSession } from './driver.js';

/** `?` → `$1, $2, …` (our SQL has no `?` inside string literals). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

// BIGINT (int8) and NUMERIC (SUM results) as JS numbers: our values (epoch ms, micro-cents) stay below 2^53.
const types = {
  getTypeParser: (oid: number, format?: string) => {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const DEADLOCK = '40P01';
const SERIALIZATION = '40001';

function queryer(c: pg.Pool | pg.PoolClient): SqlQueryer {
  return {
    all: async <T>(sql: string, params: unknown[] = []) => (await c.query(numbered(sql), params)).rows as T[],
    get: async <T>(sql: string, params: unknown[] = []) =>
      (await c.query(numbered(sql), params)).rows[0] as T | undefined,
    run: async (sql: string, params: unknown[] = []) => (await c.query(numbered(sql), params)).rowCount ?? 0,
  };
}

/** node-postgres pool; transactions on one client, retried a few times on deadlock or serialization failure. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgresql' as const;
  private readonly pool: pg.Pool;
  private readonly q: SqlQueryer;

  constructor(url: string, poolSize = 10) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection must not crash the process.
    this.pool.on('error', () => {});
    this.q = queryer(this.pool);
  }

  all<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.q.all<T>(sql, params);
  }
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined> {
    return this.q.get<T>(sql, params);
  }
  run(sql: string, params?: unknown[]): Promise<number> {
    return this.q.run(sql, params);
  }

  async tx<T>(fn: (q: SqlQueryer) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(queryer(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        const code = (e as { code?: string }).code;
        if ((code === DEADLOCK || code === SERIALIZATION) && attempt < 5) continue;
        throw e;
      } finally {
        client.release();
      }
    }
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async lockForMigration(q: SqlQueryer): Promise<void> {
    await q.get('SELECT pg_advisory_xact_lock(74112209)');
  }

  isUniqueViolation(e: unknown): boolean {
    return (e as { code?: string })?.code === '23505';
  }

  async session(): Promise<SqlSession> {
    const client = await this.pool.connect();
    // Its server session may be ended under it (pg_terminate_backend, a restart): an error for the next call,
    // and a report to whoever relies on the session staying alive (a session advisory lock goes with it).
    let released = false;
    let lost: string | undefined;
    const watchers: ((reason: string) => void)[] = [];
    const end = (reason: string) => {
      if (released || lost !== undefined) return;
      lost = reason;
      for (const cb of watchers) cb(reason);
    };
    client.on('error', (e: Error) => end(e.message));
    client.on('end', () => end('the connection ended'));
    return {
      ...queryer(client),
      onLost: (cb) => {
        if (lost !== undefined) cb(lost);
        else watchers.push(cb);
      },
      release: async () => {
        if (released) return;
        released = true;
        // Session state (advisory locks, settings) is dropped before release() resolves, and the connection is
        // destroyed, not returned to the pool. DISCARD fails inside an open transaction: the close ends it then.
        await client.query('DISCARD ALL').catch(() => {});
        client.release(true);
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
