import pg from 'pg';
import type { HaLockBackend, HaStorage } from '../core/ha.js';
import { assertValidKey, lastOpPerKey, type Storage, type StorageOp } from '../core/storage.js';

export interface PostgresOptions {
  /** postgresql://user:password@host:port/db */
  connectionUrl: string;
  /** Data table (created if missing), optionally schema-qualified. */
  table?: string;
  /** HA lock table (created if missing). */
  haTable?: string;
  /** Offer the HA lock (`ha_enabled`). */
  haEnabled?: boolean;
  /** Most connections used at once (`max_parallel`). */
  maxParallel?: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const LOCK_KEY = 'svault/active';

/**
 * Storage in one PostgreSQL table, laid out as Vault's (and OpenBao's) PostgreSQL backend: a key
 * `a/b/c` is the row (parent_path '/a/', path '/a/b/', key 'c'), so a folder's leaves are the
 * rows of its path and its sub-folders come from an index range on parent_path. Tables are
 * created on first use. A batch is a single statement, hence atomic.
 */
export class PostgresStorage implements Storage, HaStorage {
  readonly type = 'postgresql';
  readonly ha: HaLockBackend | undefined;
  private readonly pool: pg.Pool;
  /** The lock gets its own connection: renewals never queue behind slow data queries. */
  private readonly haPool: pg.Pool | undefined;
  private readonly table: string;
  private readonly haTable: string;
  private readonly parentIndex: string;
  private ready: Promise<void> | undefined;
  private closed = false;
  /** Identities holding the lock through this storage: close() releases them. */
  private readonly holders = new Set<string>();

  constructor(private readonly opts: PostgresOptions) {
    if (!opts.connectionUrl) throw new Error('[storage.postgresql] needs connection_url = "postgresql://..."');
    const table = opts.table ?? 'svault_kv';
    const haTable = opts.haTable ?? 'svault_ha_locks';
    for (const [what, name] of [
      ['table', table],
      ['ha_table', haTable],
    ]) {
      if (!IDENT.test(name as string)) {
        throw new Error(
          `[storage.postgresql] ${what} "${name}" must be a plain SQL name like svault_kv or schema.svault_kv`,
        );
      }
    }
    this.table = quoteIdent(table);
    this.haTable = quoteIdent(haTable);
    this.parentIndex = `"${table.split('.').at(-1)}_parent_path_idx"`;
    const max = opts.maxParallel ?? 16;
    if (!Number.isInteger(max) || max < 1) throw new Error('[storage.postgresql] max_parallel must be at least 1');
    this.pool = newPool(opts.connectionUrl, max);
    if (opts.haEnabled) {
      this.haPool = newPool(opts.connectionUrl, 2);
      this.ha = this.lockBackend(this.haPool);
    }
  }

  /** Connects and creates the tables: a wrong URL or missing rights fail here, with the masked URL. */
  open(): Promise<void> {
    this.ready ??= this.createTables().catch((e) => {
      this.ready = undefined;
      throw new Error(`PostgreSQL storage at ${maskUrl(this.opts.connectionUrl)}: ${(e as Error).message}`);
    });
    return this.ready;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const [, path, name] = split(key);
    await this.open();
    const r = await this.pool.query<{ value: Buffer }>(`SELECT value FROM ${this.table} WHERE path = $1 AND key = $2`, [
      path,
      name,
    ]);
    const v = r.rows[0]?.value;
    // A copy: the driver's buffer may be a slice of a larger one that would stay alive with it.
    return v ? new Uint8Array(v) : undefined;
  }

  put(key: string, value: Uint8Array): Promise<void> {
    return this.batch([{ op: 'put', key, value }]);
  }

  delete(key: string): Promise<void> {
    return this.batch([{ op: 'delete', key }]);
  }

  /** One statement: the last operation on each key wins, deletes and upserts run together. */
  async batch(ops: StorageOp[]): Promise<void> {
    const del: [string[], string[]] = [[], []];
    const put: [string[], string[], string[], Buffer[]] = [[], [], [], []];
    for (const o of lastOpPerKey(ops)) {
      const [parent, path, name] = split(o.key);
      if (o.op === 'delete') {
        del[0].push(path);
        del[1].push(name);
      } else {
        put[0].push(parent);
        put[1].push(path);
        put[2].push(name);
        put[3].push(Buffer.from(o.value.buffer, o.value.byteOffset, o.value.byteLength));
      }
    }
    await this.open();
    const deleting = `DELETE FROM ${this.table} t USING unnest($1::text[], $2::text[]) AS d(path, key)
      WHERE t.path = d.path AND t.key = d.key`;
    const upserting = (p: number) => `INSERT INTO ${this.table} (parent_path, path, key, value)
      SELECT * FROM unnest($${p}::text[], $${p + 1}::text[], $${p + 2}::text[], $${p + 3}::bytea[])
      ON CONFLICT (path, key) DO UPDATE SET value = EXCLUDED.value`;
    if (put[0].length === 0) await this.pool.query(deleting, del);
    else if (del[0].length === 0) await this.pool.query(upserting(1), put);
    else await this.pool.query(`WITH d AS (${deleting}) ${upserting(3)}`, [...del, ...put]);
  }

  async list(prefix: string): Promise<string[]> {
    assertValidKey(prefix, { prefix: true });
    const path = `/${prefix}`;
    await this.open();
    // Sub-folders: every row whose parent_path starts with `path` ('/' + 1 is '0': the range end).
    const r = await this.pool.query<{ name: string }>(
      `SELECT key AS name FROM ${this.table} WHERE path = $1
       UNION
       SELECT DISTINCT substring(substr(path, length($1) + 1) FROM '^.*?/') FROM ${this.table}
       WHERE parent_path >= $1 AND parent_path < $2`,
      [path, `${path.slice(0, -1)}0`],
    );
    return r.rows.map((row) => row.name).sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ha) for (const id of this.holders) await this.ha.release(id).catch(() => {});
    await Promise.all([this.pool.end(), this.haPool?.end()]);
  }

  private async createTables(): Promise<void> {
    // Two servers starting together would race on CREATE TABLE IF NOT EXISTS: serialize them.
    await this.pool.query(`BEGIN;
      SELECT pg_advisory_xact_lock(hashtext('svault storage schema'));
      CREATE TABLE IF NOT EXISTS ${this.table} (
        parent_path TEXT COLLATE "C" NOT NULL,
        path TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        value BYTEA,
        PRIMARY KEY (path, key));
      CREATE INDEX IF NOT EXISTS ${this.parentIndex} ON ${this.table} (parent_path);
      ${
        this.ha
          ? `CREATE TABLE IF NOT EXISTS ${this.haTable} (
        ha_key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        ha_identity TEXT COLLATE "C" NOT NULL,
        ha_value TEXT COLLATE "C",
        valid_until TIMESTAMPTZ NOT NULL);`
          : ''
      }
      COMMIT;`);
  }

  /** Vault's PostgreSQL lock: one row, taken over only once its valid_until has passed (by the database's clock). */
  private lockBackend(pool: pg.Pool): HaLockBackend {
    const t = this.haTable;
    return {
      acquire: async (id, value, ttlMs) => {
        await this.open();
        const r = await pool.query(
          `INSERT INTO ${t} AS t (ha_key, ha_identity, ha_value, valid_until)
           VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
           ON CONFLICT (ha_key) DO UPDATE SET ha_identity = $2, ha_value = $3, valid_until = EXCLUDED.valid_until
           WHERE t.valid_until < now() OR t.ha_identity = $2`,
          [LOCK_KEY, id, value, ttlMs],
        );
        if (r.rowCount === 1) this.holders.add(id);
        return r.rowCount === 1;
      },
      renew: async (id, ttlMs) => {
        const r = await pool.query(
          `UPDATE ${t} SET valid_until = now() + $3 * interval '1 millisecond'
           WHERE ha_key = $1 AND ha_identity = $2 AND valid_until >= now()`,
          [LOCK_KEY, id, ttlMs],
        );
        return r.rowCount === 1;
      },
      release: async (id) => {
        this.holders.delete(id);
        await pool.query(`DELETE FROM ${t} WHERE ha_key = $1 AND ha_identity = $2`, [LOCK_KEY, id]);
      },
      holder: async () => {
        await this.open();
        const r = await pool.query<{ ha_identity: string; ha_value: string | null }>(
          `SELECT ha_identity, ha_value FROM ${t} WHERE ha_key = $1 AND valid_until >= now()`,
          [LOCK_KEY],
        );
        const row = r.rows[0];
        return row ? { id: row.ha_identity, value: row.ha_value ?? '' } : undefined;
      },
    };
  }
}

function newPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000, keepAlive: true });
  // An idle connection that breaks (server restart) is dropped from the pool; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

/** `a/b/c` → ['/a/', '/a/b/', 'c']; `c` → ['', '/', 'c'] (Vault's split). */
function split(key: string): [string, string, string] {
  assertValidKey(key);
  const slash = key.lastIndexOf('/');
  if (slash < 0) return ['', '/', key];
  const dir = `/${key.slice(0, slash + 1)}`;
  const up = dir.lastIndexOf('/', dir.length - 2);
  return [dir.slice(0, up + 1), dir, key.slice(slash + 1)];
}

function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
}

/** The URL with its password replaced, for messages. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1********@');
}
