import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StratumError } from '@stratumiops/shared/errors';
import type { SqlDriver } from '@stratumiops/shared/sql/driver';
import { SqliteDriver } from '@stratumiops/shared/sql/sqlite';
import Database from 'better-sqlite3';
import { SqlStateStore } from './sql.js';

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
    // The first layout kept meta as key/value rows; the current one has a lineage column per workspace.
    const legacy = (db.pragma('table_info(meta)') as { name: string }[]).some((c) => c.name === 'k');
    const lineage = db.prepare(legacy ? "SELECT v FROM meta WHERE k = 'lineage'" : 'SELECT lineage FROM meta').get();
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

/**
 * One driver per file in a process, shared by the stores opened on it: a SQLite transaction spans awaits, so a
 * second connection of the same process waiting on its lock would block the thread the first needs to commit.
 */
const open = new Map<string, { driver: SqliteDriver; refs: number }>();

function sharedDriver(location: string): SqlDriver {
  let entry = open.get(location);
  if (!entry) {
    try {
      entry = { driver: new SqliteDriver(location), refs: 0 };
    } catch (e) {
      throw unusableState(location, `cannot be opened: ${(e as Error).message}`);
    }
    open.set(location, entry);
  }
  const e = entry;
  const d = e.driver;
  e.refs++;
  let closed = false;
  return {
    dialect: 'sqlite',
    all: (sql, params) => d.all(sql, params),
    get: (sql, params) => d.get(sql, params),
    run: (sql, params) => d.run(sql, params),
    tx: (fn) => d.tx(fn),
    exec: (sql) => d.exec(sql),
    lockForMigration: () => d.lockForMigration(),
    isUniqueViolation: (err) => d.isUniqueViolation(err),
    session: () => d.session(),
    close: async () => {
      if (closed) return;
      closed = true;
      if (--e.refs > 0) return;
      open.delete(location);
      await d.close();
    },
  };
}

/** The default store: one SQLite file (WAL), refused before anything is written if it is not a prov state. */
export class SqliteStateStore extends SqlStateStore {
  constructor(location: string) {
    mkdirSync(dirname(location), { recursive: true });
    // A file this process has open was checked when it was opened (and may be a new state still being created).
    if (!open.has(location) && inspectStateFile(location)) {
      // Checked before anything is written: a file that is not a prov state is left exactly as it was.
      let db: Database.Database;
      try {
        db = new Database(location);
      } catch (e) {
        throw unusableState(location, `cannot be opened: ${(e as Error).message}`);
      }
      const problem = verifyOpenedState(db);
      db.close();
      if (problem) throw unusableState(location, problem);
    }
    super(location, sharedDriver(location));
  }
}
