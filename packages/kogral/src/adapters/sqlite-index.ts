import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { isProblem, wikilinks } from '../core/markdown.js';
import { type KNode, NODE_TYPES, type NodeType, type Problem } from '../core/model.js';
import { keyText } from '../core/search/text.js';
import type { Hit, Ranked, RefreshStats, SearchFilters, SearchIndex } from '../core/search/types.js';
import type { Store } from '../core/store.js';

/** Bump when the schema or what is indexed changes: the index is then rebuilt from the files. */
const SCHEMA_VERSION = '4';
/** Column weights for BM25: title, keys (tags, aliases, split identifiers, file name), body. */
export const BM25_WEIGHTS = [10, 5, 1] as const;
/** The index keeps at most this much of a body (the file keeps all of it). */
const MAX_INDEXED_BODY = 512 * 1024;

const SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE docs(
  rowid INTEGER PRIMARY KEY,
  path TEXT UNIQUE NOT NULL,
  mtime REAL NOT NULL,
  size INTEGER NOT NULL,
  hash TEXT NOT NULL,
  id TEXT, type TEXT, status TEXT, title TEXT, tags TEXT, source TEXT, source_root TEXT,
  error TEXT, line INTEGER
);
CREATE INDEX docs_id ON docs(id);
CREATE INDEX docs_error ON docs(path) WHERE error IS NOT NULL;
CREATE TABLE names(name TEXT NOT NULL, rowid INTEGER NOT NULL);
CREATE INDEX names_name ON names(name);
CREATE INDEX names_rowid ON names(rowid);
CREATE TABLE links(src INTEGER NOT NULL, target TEXT NOT NULL);
CREATE INDEX links_src ON links(src);
CREATE INDEX links_target ON links(target);
CREATE VIRTUAL TABLE fts USING fts5(title, keys, body, tokenize='porter unicode61 remove_diacritics 2');
CREATE TABLE vectors(key TEXT PRIMARY KEY, data BLOB NOT NULL);
`;

interface DocRow {
  rowid: number;
  path: string;
  mtime: number;
  size: number;
  hash: string;
}

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

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
export class SqliteIndex implements SearchIndex {
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

  rebuild(): RefreshStats {
    this.db
      .transaction(() => {
        this.db.exec('DELETE FROM docs; DELETE FROM names; DELETE FROM links; DELETE FROM fts;');
      })
      .immediate();
    return this.refresh();
  }

  refresh(): RefreshStats {
    const t0 = performance.now();
    const files = this.store.listFiles();
    const stats: RefreshStats = {
      files: files.length,
      added: 0,
      updated: 0,
      removed: 0,
      unchanged: 0,
      problems: [],
      ms: 0,
    };
    const rows = new Map<string, number>();
    const known = this.st('SELECT path, mtime, size FROM docs').raw(true).all() as [string, number, number][];
    for (let i = 0; i < known.length; i++) rows.set((known[i] as [string, number, number])[0], i);
    const changed = files.filter((f) => {
      const i = rows.get(f.path);
      if (i === undefined) return true;
      rows.delete(f.path);
      const r = known[i] as [string, number, number];
      return r[1] !== f.mtimeMs || r[2] !== f.size;
    });
    // What is left was indexed and has no file any more.
    const gone = [...rows.keys()];
    stats.unchanged = files.length - changed.length;
    if (changed.length > 0 || gone.length > 0) {
      this.db
        .transaction(() => {
          for (const p of gone) {
            const r = this.st('SELECT rowid FROM docs WHERE path = ?').get(p) as { rowid: number } | undefined;
            if (r) this.deleteRow(r.rowid);
            stats.removed++;
          }
          for (const f of changed) {
            const before = this.st('SELECT rowid, path, mtime, size, hash FROM docs WHERE path = ?').get(f.path) as
              | DocRow
              | undefined;
            const r = this.indexFile(f.path, f.type, before);
            if (r === 'added') stats.added++;
            else if (r === 'updated') stats.updated++;
            else stats.unchanged++;
          }
        })
        .immediate();
    }
    for (const p of this.st('SELECT path, error, line FROM docs WHERE error IS NOT NULL').iterate() as Iterable<{
      path: string;
      error: string;
      line: number | null;
    }>)
      stats.problems.push({ path: p.path, message: p.error, ...(p.line ? { line: p.line } : {}) });
    stats.ms = performance.now() - t0;
    return stats;
  }

  update(written: string[], removed: string[]): void {
    this.db
      .transaction(() => {
        for (const p of removed) {
          const r = this.st('SELECT rowid FROM docs WHERE path = ?').get(p) as { rowid: number } | undefined;
          if (r) this.deleteRow(r.rowid);
        }
        for (const p of written) {
          const dir = basename(dirname(p));
          const type = NODE_TYPES.find((t) => `${t}s` === dir);
          if (!type) continue;
          const before = this.st('SELECT rowid, path, mtime, size, hash FROM docs WHERE path = ?').get(p) as
            | DocRow
            | undefined;
          this.indexFile(p, type, before);
        }
      })
      .immediate();
  }

  private deleteRow(rowid: number): void {
    this.version++;
    this.st('DELETE FROM docs WHERE rowid = ?').run(rowid);
    this.st('DELETE FROM fts WHERE rowid = ?').run(rowid);
    this.st('DELETE FROM names WHERE rowid = ?').run(rowid);
    this.st('DELETE FROM links WHERE src = ?').run(rowid);
  }

  /** Indexes one file; unchanged content (same hash) only refreshes its mtime. */
  private indexFile(path: string, type: NodeType, before: DocRow | undefined): 'added' | 'updated' | 'same' | 'gone' {
    let buf: Buffer;
    let st: { mtimeMs: number; size: number };
    try {
      st = statSync(path);
      buf = readFileSync(path);
    } catch {
      if (before) this.deleteRow(before.rowid);
      return 'gone';
    }
    const hash = sha1(buf);
    if (before && before.hash === hash) {
      this.st('UPDATE docs SET mtime = ?, size = ? WHERE rowid = ?').run(st.mtimeMs, st.size, before.rowid);
      return 'same';
    }
    const parsed = this.store.parse(buf, path, type);
    if (before) this.deleteRow(before.rowid);
    if (isProblem(parsed)) {
      this.insertProblem(path, st, hash, parsed);
      return before ? 'updated' : 'added';
    }
    this.insertNode(path, st, hash, parsed);
    return before ? 'updated' : 'added';
  }

  private insertProblem(path: string, st: { mtimeMs: number; size: number }, hash: string, p: Problem): void {
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

  private insertNode(path: string, st: { mtimeMs: number; size: number }, hash: string, n: KNode): void {
    this.version++;
    const tags = n.tags.length > 0 ? `|${n.tags.map((t) => t.toLowerCase()).join('|')}|` : '';
    const info = this.st(
      `INSERT INTO docs(path, mtime, size, hash, id, type, status, title, tags, source, source_root)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    const names = new Set([n.id, n.title.toLowerCase(), ...n.aliases.map((a) => a.toLowerCase())]);
    const insName = this.st('INSERT INTO names(name, rowid) VALUES (?, ?)');
    for (const name of names) insName.run(name, rowid);
    const targets = new Set([
      ...n.relations.map((r) => r.target.toLowerCase()),
      ...wikilinks(n.body).map((l) => l.toLowerCase()),
    ]);
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
      `SELECT rowid, id, type, status, title, tags, path, source, source_root FROM docs WHERE rowid IN (${q})`,
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
