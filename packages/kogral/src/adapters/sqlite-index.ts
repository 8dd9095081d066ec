import crypto from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { type Catalog, type CatalogEntry, type EntryPage, type EntryQuery, entryOrder } from '../core/catalog.js';
import { nodeNames, refKeys } from '../core/graph.js';
import { isProblem, wikilinks } from '../core/markdown.js';
import { type KNode, NODE_TYPES, type NodeType, type Problem } from '../core/model.js';
import { keyText } from '../core/search/text.js';
import type { Hit, Ranked, RefreshStats, SearchFilters, SearchIndex } from '../core/search/types.js';
import type { FileEntry, Store } from '../core/store.js';

/** Bump when the schema or what is indexed changes: the index is then rebuilt from the files. */
const SCHEMA_VERSION = '5';
/** Column weights for BM25: title, keys (tags, aliases, split identifiers, file name), body. */
export const BM25_WEIGHTS = [10, 5, 1] as const;
/** The index keeps at most this much of a body (the file keeps all of it). */
const MAX_INDEXED_BODY = 512 * 1024;

/**
 * What a full rebuild drops and creates again (the vectors, cached by content hash, stay).
 * FTS5 merges index segments less eagerly than its default (automerge 4): a 10k-node build
 * takes about a quarter less CPU, for queries about half a millisecond slower.
 */
const DOC_TABLES = `
CREATE TABLE docs(
  rowid INTEGER PRIMARY KEY,
  path TEXT UNIQUE NOT NULL,
  mtime REAL NOT NULL,
  size INTEGER NOT NULL,
  hash TEXT NOT NULL,
  id TEXT, type TEXT, status TEXT, title TEXT, tags TEXT, tag_list TEXT, created TEXT, updated TEXT,
  source TEXT, source_root TEXT, error TEXT, line INTEGER
);
CREATE TABLE names(name TEXT NOT NULL, rowid INTEGER NOT NULL, is_id INTEGER NOT NULL DEFAULT 0);
CREATE TABLE links(src INTEGER NOT NULL, target TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(title, keys, body, tokenize='porter unicode61 remove_diacritics 2');
INSERT INTO fts(fts, rank) VALUES('automerge', 16);
`;
/** Created after a bulk load: filling a table and then indexing it is faster than keeping the index up. */
const DOC_INDEXES = `
CREATE INDEX docs_id ON docs(id);
CREATE INDEX docs_error ON docs(path) WHERE error IS NOT NULL;
CREATE INDEX names_name ON names(name);
CREATE INDEX names_rowid ON names(rowid);
CREATE INDEX links_src ON links(src);
CREATE INDEX links_target ON links(target);
`;
const SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE vectors(key TEXT PRIMARY KEY, data BLOB NOT NULL);
${DOC_TABLES}
${DOC_INDEXES}
`;

type Stat = { mtimeMs: number; size: number };

interface EntryRow {
  rowid: number;
  id: string;
  type: NodeType;
  title: string;
  status: string;
  tag_list: string;
  created: string;
  updated: string;
  path: string;
  source: string | null;
  source_root: string | null;
}

// crypto.hash (one call, no Hash object) is much cheaper for many small files; Node < 20.12 lacks it.
const sha1: (b: Buffer | string) => string =
  typeof crypto.hash === 'function'
    ? (b) => crypto.hash('sha1', b)
    : (b) => crypto.createHash('sha1').update(b).digest('hex');

/** The body as indexed: base64 payloads (embedded images) dropped, size capped. */
function indexBody(body: string): string {
  const b = body.replace(/data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]{64,}/g, 'data:…');
  return b.length > MAX_INDEXED_BODY ? b.slice(0, MAX_INDEXED_BODY) : b;
}

const fileBase = (p: string) =>
  (p.split('/').pop() ?? p).replace(/\.md$/i, '').replace(/___/g, ' ').replace(/[-_]+/g, ' ');

/**
 * The search index: SQLite FTS5 in `.kogral/index.db`. A cache of the markdown files: updated
 * from their mtimes and hashes, rebuilt when missing, corrupt or of an older schema.
 */
export class SqliteIndex implements SearchIndex, Catalog {
  private db: Database.Database;
  private readonly vecCache = new Map<string, Float32Array>();
  private readonly stmts = new Map<string, Database.Statement>();
  /** Bumped on every change this process makes to the index. */
  private version = 0;
  private snapshot?: { stamp: string; rowids: number[]; vectors: Float32Array[] };

  /** Prepared statements are reused: preparing one per row costs more than running it. */
  private st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      if (this.stmts.size > 500) this.stmts.clear();
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  constructor(
    private readonly store: Store,
    readonly file = join(store.dir, 'index.db'),
  ) {
    this.db = this.open();
  }

  private open(): Database.Database {
    let db: Database.Database | undefined;
    try {
      db = new Database(this.file);
      db.pragma('busy_timeout = 10000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = -32768');
      const conn = db;
      const version = (): string | undefined => {
        const has = conn.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").get();
        if (!has) return undefined;
        return (conn.prepare("SELECT value FROM meta WHERE key='schema'").get() as { value: string } | undefined)
          ?.value;
      };
      if (version() !== SCHEMA_VERSION) {
        conn
          .transaction(() => {
            // Checked again under the write lock: another process may have just built it.
            if (version() === SCHEMA_VERSION) return;
            const objs = conn.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as {
              type: string;
              name: string;
            }[];
            for (const o of objs)
              if (o.type === 'table' && !/^fts_/.test(o.name)) conn.exec(`DROP TABLE IF EXISTS "${o.name}"`);
            conn.exec(SCHEMA);
            conn.prepare("INSERT INTO meta(key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
          })
          .immediate();
      }
      return db;
    } catch (e) {
      db?.close();
      const code = (e as { code?: string }).code ?? '';
      if (/SQLITE_(CORRUPT|NOTADB)/.test(code) || /malformed|not a database/.test(String(e))) {
        // A cache: a broken one is thrown away and built again from the files.
        for (const f of [this.file, `${this.file}-wal`, `${this.file}-shm`]) rmSync(f, { force: true });
        return this.open();
      }
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  /** Changes whenever this index changes, by this process or another one. */
  stamp(): string {
    return `${this.version}:${this.db.pragma('data_version', { simple: true })}`;
  }

  count(): number {
    return (this.st('SELECT count(*) AS n FROM docs WHERE error IS NULL').get() as { n: number }).n;
  }

  docFreq(word: string): number {
    try {
      return (
        this.st('SELECT count(*) AS n FROM fts WHERE fts MATCH ?').get(`"${word.replaceAll('"', '""')}"`) as {
          n: number;
        }
      ).n;
    } catch {
      return 0;
    }
  }

  /** Drops the documents and indexes every file again, in one transaction (readers see the old index until it commits). */
  rebuild(): RefreshStats {
    const t0 = performance.now();
    const stats = this.bulkLoad(this.store.listFiles(), false);
    stats.ms = performance.now() - t0;
    return stats;
  }

  /**
   * Brings the index up to date: every file is stat-ed and compared with what was indexed
   * (mtime and size); only files that differ are read, and re-indexed only when their content
   * hash changed. A first build (no index yet, or a deleted one) is a bulk load.
   */
  refresh(): RefreshStats {
    const t0 = performance.now();
    const files = this.store.listFiles();
    const empty = files.length > 0 && !this.st('SELECT 1 FROM docs LIMIT 1').get();
    const stats = empty ? this.bulkLoad(files, true) : this.apply(files);
    stats.ms = performance.now() - t0;
    return stats;
  }

  /**
   * Every file into emptied tables, their indexes created afterwards (faster than keeping them
   * up row by row). With `onlyIfEmpty`, another process that filled the index first wins.
   */
  private bulkLoad(files: FileEntry[], onlyIfEmpty: boolean): RefreshStats {
    // No fsync of the whole new index: it is a cache, and a broken one is rebuilt on open.
    this.db.pragma('synchronous = OFF');
    try {
      return this.db
        .transaction(() => {
          if (onlyIfEmpty && this.st('SELECT 1 FROM docs LIMIT 1').get()) return this.apply(this.store.listFiles());
          // Dropping is far cheaper than deleting rows from FTS5, which writes a tombstone for each.
          this.db.exec(
            "DROP TABLE docs; DROP TABLE names; DROP TABLE links; DROP TABLE fts; DELETE FROM meta WHERE key = 'listing';",
          );
          this.db.exec(DOC_TABLES);
          this.stmts.clear();
          this.version++;
          const s = this.apply(files);
          this.db.exec(DOC_INDEXES);
          return s;
        })
        .immediate();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /** The files compared with the index, and what differs indexed (stats.ms is the caller's). */
  private apply(files: FileEntry[]): RefreshStats {
    const stats: RefreshStats = {
      files: files.length,
      added: 0,
      updated: 0,
      removed: 0,
      unchanged: 0,
      problems: [],
      ms: 0,
    };
    // Every path, mtime and size as one hash: when it is the one stored by the last update, no
    // file changed since, and the per-file comparison (10k rows read back) is skipped.
    const listing = sha1(files.map((f) => `${f.path}\0${f.mtimeMs}\0${f.size}`).join('\n'));
    const stored = this.st("SELECT value FROM meta WHERE key = 'listing'").get() as { value: string } | undefined;
    if (stored?.value === listing) {
      stats.unchanged = files.length;
      stats.problems = this.fileProblems();
      return stats;
    }
    type Row = [path: string, mtime: number, size: number, rowid: number];
    const known = new Map<string, Row>();
    for (const r of this.st('SELECT path, mtime, size, rowid FROM docs').raw(true).all() as Row[]) known.set(r[0], r);
    const changed: { file: FileEntry; rowid?: number }[] = [];
    for (const f of files) {
      const k = known.get(f.path);
      if (k) {
        known.delete(f.path);
        if (k[1] === f.mtimeMs && k[2] === f.size) continue;
      }
      changed.push({ file: f, ...(k ? { rowid: k[3] } : {}) });
    }
    // What is left was indexed and has no file any more.
    const gone = [...known.values()].map((k) => k[3]);
    stats.unchanged = files.length - changed.length;
    this.db
      .transaction(() => {
        if (changed.length > 0 || gone.length > 0) {
          for (const rowid of gone) {
            this.deleteRow(rowid);
            stats.removed++;
          }
          for (const { file, rowid } of changed) {
            // The stat taken before reading: a change after it shows as a new mtime next time.
            const r = this.indexFile(file.path, file.type, rowid, file);
            if (r === 'added') stats.added++;
            else if (r === 'updated') stats.updated++;
            else if (r === 'same') stats.unchanged++;
          }
        }
        // What the index now holds was read after these stats were taken.
        this.st("INSERT OR REPLACE INTO meta(key, value) VALUES ('listing', ?)").run(listing);
      })
      .immediate();
    stats.problems = this.fileProblems();
    return stats;
  }

  private fileProblems(): Problem[] {
    const out: Problem[] = [];
    for (const p of this.st('SELECT path, error, line FROM docs WHERE error IS NOT NULL').iterate() as Iterable<{
      path: string;
      error: string;
      line: number | null;
    }>)
      out.push({ path: p.path, message: p.error, ...(p.line ? { line: p.line } : {}) });
    return out;
  }

  update(written: string[], removed: string[]): void {
    this.db
      .transaction(() => {
        for (const p of removed) {
          const r = this.rowidOf(p);
          if (r !== undefined) this.deleteRow(r);
        }
        for (const p of written) {
          const src = this.store.sourceOf(p);
          const dir = basename(dirname(p));
          const type = src ? src.type : NODE_TYPES.find((t) => `${t}s` === dir);
          if (type) this.indexFile(p, type, this.rowidOf(p));
        }
      })
      .immediate();
  }

  private rowidOf(path: string): number | undefined {
    return (this.st('SELECT rowid FROM docs WHERE path = ?').get(path) as { rowid: number } | undefined)?.rowid;
  }

  private deleteRow(rowid: number): void {
    this.version++;
    this.st('DELETE FROM docs WHERE rowid = ?').run(rowid);
    this.st('DELETE FROM fts WHERE rowid = ?').run(rowid);
    this.st('DELETE FROM names WHERE rowid = ?').run(rowid);
    this.st('DELETE FROM links WHERE src = ?').run(rowid);
  }

  /** Indexes one file; unchanged content (same hash) only refreshes its mtime. */
  private indexFile(
    path: string,
    type: NodeType,
    before: number | undefined,
    known?: Stat,
  ): 'added' | 'updated' | 'same' | 'gone' {
    let buf: Buffer;
    let st: Stat;
    try {
      st = known ?? statSync(path);
      buf = readFileSync(path);
    } catch {
      if (before !== undefined) this.deleteRow(before);
      return 'gone';
    }
    const hash = sha1(buf);
    if (before !== undefined) {
      const old = this.st('SELECT hash FROM docs WHERE rowid = ?').get(before) as { hash: string } | undefined;
      if (old?.hash === hash) {
        this.st('UPDATE docs SET mtime = ?, size = ? WHERE rowid = ?').run(st.mtimeMs, st.size, before);
        return 'same';
      }
      this.deleteRow(before);
    }
    const parsed = this.store.parse(buf, path, type);
    if (isProblem(parsed)) this.insertProblem(path, st, hash, parsed);
    else this.insertNode(path, st, hash, parsed);
    return before !== undefined ? 'updated' : 'added';
  }

  private insertProblem(path: string, st: Stat, hash: string, p: Problem): void {
    this.version++;
    this.st('INSERT INTO docs(path, mtime, size, hash, error, line) VALUES (?, ?, ?, ?, ?, ?)').run(
      path,
      st.mtimeMs,
      st.size,
      hash,
      p.message,
      p.line ?? null,
    );
  }

  private insertNode(path: string, st: Stat, hash: string, n: KNode): void {
    this.version++;
    const tags = n.tags.length > 0 ? `|${n.tags.map((t) => t.toLowerCase()).join('|')}|` : '';
    const info = this.st(
      `INSERT INTO docs(path, mtime, size, hash, id, type, status, title, tags, tag_list, created, updated, source, source_root)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      path,
      st.mtimeMs,
      st.size,
      hash,
      n.id,
      n.type,
      n.status,
      n.title,
      tags,
      JSON.stringify(n.tags),
      n.created,
      n.updated,
      n.source ?? null,
      n.source_root ?? null,
    );
    const rowid = Number(info.lastInsertRowid);
    const keys = [
      n.tags.join(' '),
      n.aliases.join(' '),
      keyText([n.title, ...n.aliases, n.source]),
      fileBase(n.source ?? ''),
    ]
      .filter(Boolean)
      .join(' \n');
    this.st('INSERT INTO fts(rowid, title, keys, body) VALUES (?, ?, ?, ?)').run(
      rowid,
      n.title,
      keys,
      indexBody(n.body),
    );
    const insName = this.st('INSERT INTO names(name, rowid, is_id) VALUES (?, ?, ?)');
    insName.run(n.id, rowid, 1);
    for (const name of new Set(nodeNames(n))) insName.run(name, rowid, 0);
    // Each link target under every key it could resolve by (see Graph.resolveName), for backlinks.
    const targets = new Set<string>();
    for (const r of n.relations) for (const k of refKeys(r.target)) targets.add(k);
    for (const l of wikilinks(n.body)) for (const k of refKeys(l)) targets.add(k);
    const insLink = this.st('INSERT INTO links(src, target) VALUES (?, ?)');
    for (const t of targets) insLink.run(rowid, t);
  }

  private filterSql(f: SearchFilters, params: unknown[]): string {
    let sql = '';
    if (f.type) {
      sql += ' AND d.type = ?';
      params.push(f.type);
    }
    if (f.status) {
      sql += ' AND d.status = ? COLLATE NOCASE';
      params.push(f.status);
    }
    for (const t of f.tags ?? []) {
      sql += " AND d.tags LIKE ? ESCAPE '\\'";
      params.push(`%|${t.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}|%`);
    }
    return sql;
  }

  bm25(match: string, filters: SearchFilters, limit: number): Ranked[] {
    const params: unknown[] = [...BM25_WEIGHTS, match];
    const where = this.filterSql(filters, params);
    params.push(limit);
    const sql = where
      ? `SELECT fts.rowid AS rowid, bm25(fts, ?, ?, ?) AS score FROM fts JOIN docs d ON d.rowid = fts.rowid
         WHERE fts MATCH ?${where} ORDER BY score LIMIT ?`
      : 'SELECT rowid, bm25(fts, ?, ?, ?) AS score FROM fts WHERE fts MATCH ? ORDER BY score LIMIT ?';
    return this.st(sql).all(...params) as Ranked[];
  }

  byNames(names: string[], filters: SearchFilters): number[] {
    if (names.length === 0) return [];
    const params: unknown[] = [...names];
    const where = this.filterSql(filters, params);
    const rows = this.st(
      `SELECT DISTINCT n.rowid AS rowid FROM names n JOIN docs d ON d.rowid = n.rowid
         WHERE n.name IN (${names.map(() => '?').join(',')})${where}`,
    ).all(...params) as { rowid: number }[];
    return rows.map((r) => r.rowid);
  }

  neighbours(rowids: number[], filters: SearchFilters): number[] {
    if (rowids.length === 0) return [];
    const q = rowids.map(() => '?').join(',');
    const params: unknown[] = [...rowids, ...rowids];
    const where = this.filterSql(filters, params);
    const out = this.st(
      `SELECT d.rowid AS rowid FROM docs d WHERE d.rowid IN (
           SELECT n.rowid FROM links l JOIN names n ON n.name = l.target WHERE l.src IN (${q})
           UNION SELECT l.src FROM links l JOIN names n ON n.name = l.target WHERE n.rowid IN (${q}))${where}`,
    ).all(...params) as { rowid: number }[];
    return out.map((r) => r.rowid).filter((r) => !rowids.includes(r));
  }

  hits(rowids: number[], match: string | undefined): (Hit & { rowid: number })[] {
    if (rowids.length === 0) return [];
    const q = rowids.map(() => '?').join(',');
    const rows = this.st(
      // Of two files with one id, only the first by path (the rule list and show follow; the other is a problem).
      `SELECT rowid, id, type, status, title, tags, path, source, source_root FROM docs WHERE rowid IN (${q})
         AND NOT EXISTS (SELECT 1 FROM docs d2 WHERE d2.id = docs.id AND d2.path < docs.path)`,
    ).all(...rowids) as {
      rowid: number;
      id: string;
      type: NodeType;
      status: string;
      title: string;
      tags: string;
      path: string;
      source: string | null;
      source_root: string | null;
    }[];
    const snippets = new Map<number, string>();
    if (match) {
      const sn = this.st(
        `SELECT rowid, snippet(fts, 2, char(2), char(3), '…', 24) AS s FROM fts WHERE fts MATCH ? AND rowid IN (${q})`,
      ).all(match, ...rowids) as { rowid: number; s: string }[];
      for (const s of sn) if (s.s.includes('\u0002')) snippets.set(s.rowid, s.s);
    }
    const missing = rowids.filter((r) => !snippets.has(r));
    if (missing.length > 0) {
      const rs = this.st(
        `SELECT rowid, substr(body, 1, 600) AS b FROM fts WHERE rowid IN (${missing.map(() => '?').join(',')})`,
      ).all(...missing) as { rowid: number; b: string }[];
      for (const r of rs) snippets.set(r.rowid, leadText(r.b));
    }
    const byRow = new Map(rows.map((r) => [r.rowid, r]));
    const out: (Hit & { rowid: number })[] = [];
    for (const rowid of rowids) {
      const r = byRow.get(rowid);
      if (!r) continue;
      out.push({
        rowid,
        id: r.id,
        type: r.type,
        title: r.title,
        status: r.status,
        tags: r.tags ? r.tags.split('|').filter(Boolean) : [],
        path: r.path,
        ...(r.source ? { source: r.source } : {}),
        ...(r.source_root ? { source_root: r.source_root } : {}),
        score: 0,
        snippet: snippets.get(rowid) ?? '',
      });
    }
    return out;
  }

  // ------------------------------------------------------------ Catalog: list and show without loading files

  private static readonly ENTRY_COLS =
    'd.rowid, d.id, d.type, d.title, d.status, d.tag_list, d.created, d.updated, d.path, d.source, d.source_root';

  private entry(r: EntryRow): CatalogEntry {
    return {
      id: r.id,
      type: r.type,
      title: r.title,
      status: r.status,
      tags: JSON.parse(r.tag_list) as string[],
      created: r.created,
      updated: r.updated,
      path: r.path,
      ...(r.source ? { source: r.source } : {}),
      ...(r.source_root ? { source_root: r.source_root } : {}),
    };
  }

  /**
   * Ids held by more than one file: the first by path counts (as in Store.loadAll), the others
   * are problems. (Only readable rows have an id, so the inner scan reads the id index alone.)
   */
  private duplicates(): Map<string, { rowid: number; path: string }[]> {
    const out = new Map<string, { rowid: number; path: string }[]>();
    const rows = this.st(
      `SELECT d.id AS id, d.rowid AS rowid, d.path AS path FROM docs d
         WHERE d.error IS NULL AND d.id IN (SELECT id FROM docs WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1)
         ORDER BY d.path`,
    ).all() as { id: string; rowid: number; path: string }[];
    for (const r of rows) out.set(r.id, [...(out.get(r.id) ?? []), { rowid: r.rowid, path: r.path }]);
    return out;
  }

  entries(q: EntryQuery): EntryPage {
    const params: unknown[] = [];
    const where = ` WHERE d.error IS NULL${this.filterSql(q, params)}`;
    const cols = SqliteIndex.ENTRY_COLS;
    // Of files sharing an id, only the first by path is a node.
    const dups = this.duplicates();
    const first = (id: string, rowid: number) => (dups.get(id)?.[0]?.rowid ?? rowid) === rowid;
    if (!q.sort) {
      const rows = this.st(`SELECT ${cols} FROM docs d${where} ORDER BY d.path`).all(...params) as EntryRow[];
      const all = rows.filter((r) => first(r.id, r.rowid)).map((r) => this.entry(r));
      return { entries: q.limit ? all.slice(0, q.limit) : all, total: all.length };
    }
    // Sort keys only (the collator order list has always used), then whole rows for the page shown.
    const keys = (
      this.st(`SELECT d.${q.sort}, d.path, d.rowid, d.id FROM docs d${where}`)
        .raw(true)
        .all(...params) as [string, string, number, string][]
    ).filter((k) => first(k[3], k[2]));
    const order = entryOrder(q.sort);
    keys.sort((a, b) => order([a[0], a[1]], [b[0], b[1]]));
    const page = q.limit ? keys.slice(0, q.limit) : keys;
    const byRow = new Map<number, EntryRow>();
    if (page.length === keys.length)
      for (const r of this.st(`SELECT ${cols} FROM docs d${where}`).all(...params) as EntryRow[]) byRow.set(r.rowid, r);
    else
      for (let i = 0; i < page.length; i += 500) {
        const ids = page.slice(i, i + 500).map((k) => k[2]);
        const sql = `SELECT ${cols} FROM docs d WHERE d.rowid IN (${ids.map(() => '?').join(',')})`;
        for (const r of this.st(sql).all(...ids) as EntryRow[]) byRow.set(r.rowid, r);
      }
    return { entries: page.map((k) => this.entry(byRow.get(k[2]) as EntryRow)), total: keys.length };
  }

  problems(): Problem[] {
    return [...this.fileProblems(), ...this.duplicateProblems()];
  }

  /** The files whose id an earlier file (by path) already has: never nodes, reported by every command that reads nodes. */
  duplicateProblems(): Problem[] {
    const out: Problem[] = [];
    for (const [id, rows] of this.duplicates())
      for (const r of rows.slice(1))
        out.push({ path: r.path, message: `duplicate id '${id}' (also in ${rows[0]?.path})` });
    return out;
  }

  byId(id: string): CatalogEntry | undefined {
    const r = this.st(
      `SELECT ${SqliteIndex.ENTRY_COLS} FROM docs d WHERE d.id = ? AND d.error IS NULL ORDER BY d.path LIMIT 1`,
    ).get(id) as EntryRow | undefined;
    return r && this.entry(r);
  }

  byName(keys: string[]): CatalogEntry | undefined {
    const q = this.st(
      `SELECT ${SqliteIndex.ENTRY_COLS} FROM names n JOIN docs d ON d.rowid = n.rowid
         WHERE n.name = ? AND n.is_id = 0 AND d.error IS NULL ORDER BY d.path LIMIT 1`,
    );
    for (const k of keys) {
      const r = q.get(k) as EntryRow | undefined;
      // A node that shares its id with an earlier file is not a node (see problems()).
      if (r && this.byId(r.id)?.path === r.path) return this.entry(r);
    }
    return undefined;
  }

  idsWithPrefix(prefix: string, max: number): string[] {
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    return (
      this.st(`SELECT DISTINCT id FROM docs WHERE id LIKE ? ESCAPE '\\' AND error IS NULL ORDER BY id LIMIT ?`).all(
        `${escaped}%`,
        max,
      ) as { id: string }[]
    ).map((r) => r.id);
  }

  linkSources(keys: string[]): { path: string; type: NodeType }[] {
    if (keys.length === 0) return [];
    return this.st(
      `SELECT DISTINCT d.path AS path, d.type AS type FROM links l JOIN docs d ON d.rowid = l.src
         WHERE l.target IN (${keys.map(() => '?').join(',')}) AND d.error IS NULL ORDER BY d.path`,
    ).all(...keys) as { path: string; type: NodeType }[];
  }

  async vectors(
    model: string,
    dims: number,
    embed: (texts: string[]) => Promise<Float32Array[]>,
    filters: SearchFilters,
  ): Promise<{ rowids: number[]; vectors: Float32Array[] }> {
    const params: unknown[] = [];
    const where = this.filterSql(filters, params);
    const prefix = `${model}:${dims}:`;
    // Reused while nothing changed, in this process or any other (data_version).
    const stamp = `${prefix}|${where}|${JSON.stringify(params)}|${this.version}|${this.db.pragma('data_version', { simple: true })}`;
    if (this.snapshot?.stamp === stamp) return this.snapshot;
    const rows = this.st(
      `SELECT d.rowid AS rowid, d.hash AS hash, v.data AS data FROM docs d LEFT JOIN vectors v ON v.key = ? || d.hash
       WHERE d.error IS NULL${where}`,
    ).all(prefix, ...params) as { rowid: number; hash: string; data: Buffer | null }[];
    const vectors: (Float32Array | undefined)[] = rows.map((r) => {
      const key = prefix + r.hash;
      const cached = this.vecCache.get(key);
      if (cached) return cached;
      if (!r.data) return undefined;
      const v = toFloat32(r.data);
      this.vecCache.set(key, v);
      return v;
    });
    const need = rows.map((r, i) => ({ rowid: r.rowid, key: prefix + r.hash, i })).filter((x) => !vectors[x.i]);
    const text = this.st('SELECT title, keys, body FROM fts WHERE rowid = ?');
    const put = this.st('INSERT OR REPLACE INTO vectors(key, data) VALUES (?, ?)');
    for (let i = 0; i < need.length; i += 256) {
      const batch = need.slice(i, i + 256);
      const texts = batch.map((b) => {
        const t = text.get(b.rowid) as { title: string; keys: string; body: string };
        return embeddingText(t.title, t.keys, t.body);
      });
      const vecs = await embed(texts);
      this.db
        .transaction(() => {
          batch.forEach((b, k) => {
            const v = vecs[k] as Float32Array;
            this.vecCache.set(b.key, v);
            vectors[b.i] = v;
            put.run(b.key, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
          });
        })
        .immediate();
    }
    this.snapshot = {
      stamp: `${prefix}|${where}|${JSON.stringify(params)}|${this.version}|${this.db.pragma('data_version', { simple: true })}`,
      rowids: rows.map((r) => r.rowid),
      vectors: vectors as Float32Array[],
    };
    return this.snapshot;
  }
}

function toFloat32(b: Buffer): Float32Array {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/** What an embedder sees of a document: the title twice (it says most), keys, the start of the body. */
export function embeddingText(title: string, keys: string, body: string): string {
  return `${title}\n${title}\n${keys}\n${body.slice(0, 3000)}`;
}

function leadText(body: string): string {
  const lines = body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('---') && !/^[a-z-]+::/.test(l));
  const t = lines.join(' ').replace(/\s+/g, ' ');
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

export type { Problem };
