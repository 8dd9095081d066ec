import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greatest, least, migrate, type SqlDriver } from '../src/sql/driver.js';
import { PostgresDriver } from '../src/sql/postgres.js';
import { SqliteDriver } from '../src/sql/sqlite.js';
import { type PostgresServer, skipUnless, startPostgres } from '../src/testing/index.js';

// The small SQL driver behind vapora's store (and, next, prov's state): the same calls and guarantees on both.

const MIGRATIONS = [
  'CREATE TABLE counters (id TEXT PRIMARY KEY, n INTEGER NOT NULL);\nCREATE INDEX counters_n ON counters(n);',
  'ALTER TABLE counters ADD COLUMN note TEXT',
];

let pgServer: PostgresServer | undefined;
let dbCount = 0;
const opened: SqlDriver[] = [];

async function newPg(): Promise<SqlDriver> {
  const admin = new pg.Client({ connectionString: pgServer!.url });
  await admin.connect();
  const name = `sql_t${++dbCount}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const db = new PostgresDriver(pgServer!.url.replace(/\/postgres$/, `/${name}`), 10);
  opened.push(db);
  return db;
}

function newSqlite(): SqlDriver {
  const db = new SqliteDriver(join(mkdtempSync(join(tmpdir(), 'sql-')), 'nested', 't.db'));
  opened.push(db);
  return db;
}

/**
 * A second writer: on PostgreSQL another pool. On SQLite the same driver (its in-process lock is what serialises
 * callers): better-sqlite3 is synchronous, so two connections in one process would wait on each other's lock with
 * the event loop blocked; across processes busy_timeout serialises them (vapora's durability test kills one).
 */
function sibling(db: SqlDriver): SqlDriver {
  if (db instanceof SqliteDriver) return db;
  const url = (db as unknown as { pool: { options: { connectionString: string } } }).pool.options.connectionString;
  const other = new PostgresDriver(url);
  opened.push(other);
  return other;
}

const backends: [string, () => Promise<SqlDriver> | SqlDriver, boolean][] = [
  ['sqlite', newSqlite, false],
  ['postgresql', newPg, skipUnless('postgres')],
];

beforeAll(async () => {
  if (!skipUnless('postgres')) pgServer = await startPostgres();
});
afterAll(async () => {
  for (const db of opened) await db.close().catch(() => {});
  await pgServer?.stop();
});

describe.each(backends)('sql driver on %s', (_name, open, skip) => {
  it.skipIf(skip)('migrates in order, once, also when two migrators race', async () => {
    const db = await open();
    const other = sibling(db);
    expect(await Promise.all([migrate(db, MIGRATIONS.slice(0, 1)), migrate(other, MIGRATIONS.slice(0, 1))])).toEqual([
      1, 1,
    ]);
    expect(await migrate(db, MIGRATIONS)).toBe(2);
    expect(await migrate(other, MIGRATIONS)).toBe(2);
    const versions = await db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((v) => Number(v.version))).toEqual([1, 2]);
    expect(await db.run('INSERT INTO counters (id, n, note) VALUES (?, ?, ?)', ['a', 1, 'x'])).toBe(1);
  });

  it.skipIf(skip)('a transaction that throws leaves nothing; unique violations are recognised', async () => {
    const db = await open();
    await migrate(db, MIGRATIONS);
    await db.run('INSERT INTO counters (id, n) VALUES (?, ?)', ['a', 1]);
    await expect(
      db.tx(async (q) => {
        await q.run('INSERT INTO counters (id, n) VALUES (?, ?)', ['b', 2]);
        await q.run('UPDATE counters SET n = n + 1 WHERE id = ?', ['a']);
        throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(await db.all('SELECT id, n FROM counters ORDER BY id')).toEqual([{ id: 'a', n: 1 }]);
    const dup = await db.run('INSERT INTO counters (id, n) VALUES (?, ?)', ['a', 9]).catch((e: unknown) => e);
    expect(db.isUniqueViolation(dup)).toBe(true);
    expect(db.isUniqueViolation(new Error('other'))).toBe(false);
    expect(await db.run('UPDATE counters SET note = ? WHERE id = ?', [undefined, 'nobody'])).toBe(0);
  });

  it.skipIf(skip)('concurrent read-modify-write transactions from two connections lose no update', async () => {
    const db = await open();
    await migrate(db, MIGRATIONS);
    const other = sibling(db);
    await db.run('INSERT INTO counters (id, n) VALUES (?, ?)', ['c', 0]);
    const lock = db.dialect === 'postgresql' ? ' FOR UPDATE' : '';
    const bump = (d: SqlDriver) =>
      d.tx(async (q) => {
        const row = await q.get<{ n: number }>(`SELECT n FROM counters WHERE id = ?${lock}`, ['c']);
        await new Promise((r) => setTimeout(r, 1)); // another writer gets every chance to interleave
        return q.run('UPDATE counters SET n = ? WHERE id = ?', [Number(row?.n) + 1, 'c']);
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? db : other)));
    expect(Number((await db.get<{ n: number }>('SELECT n FROM counters WHERE id = ?', ['c']))?.n)).toBe(20);
  });

  it.skipIf(skip)('a session keeps connection state until released (an advisory lock on PostgreSQL)', async () => {
    const db = await open();
    await migrate(db, MIGRATIONS);
    const a = await db.session();
    await a.run('INSERT INTO counters (id, n) VALUES (?, ?)', ['s', 1]);
    expect(await db.get('SELECT n FROM counters WHERE id = ?', ['s'])).toEqual({ n: 1 });
    if (db.dialect === 'postgresql') {
      const b = await db.session();
      const tryLock = async (s: typeof a) =>
        (await s.get<{ ok: boolean }>('SELECT pg_try_advisory_lock(?, 1) AS ok', [4242]))?.ok;
      expect(await tryLock(a)).toBe(true);
      expect(await tryLock(b)).toBe(false); // held by the other session
      await a.release();
      expect(await tryLock(b)).toBe(true); // released with its connection
      await b.release();
    } else await a.release();
  });

  it.skipIf(skip)('LEAST/GREATEST spelled for the dialect', async () => {
    const db = await open();
    const r = await db.get<{ lo: number; hi: number }>(`SELECT ${least(db)}(3, 5) AS lo, ${greatest(db)}(3, 5) AS hi`);
    expect([Number(r?.lo), Number(r?.hi)]).toEqual([3, 5]);
  });
});
