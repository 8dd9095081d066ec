/**
 * `kogral sync --url postgresql://…`: the graph shared through a team PostgreSQL. Each node file
 * (keyed by node id) and each conflict file is one row; a row changes with a new number from one
 * sequence, so a sync pulls only rows numbered after its last one and pushes only files whose
 * content changed since (the base: what this clone last agreed with the server on, kept in
 * `.kogral/.sync/`). A whole sync runs in one transaction under a per-graph advisory lock: writers
 * take turns, and the sequence order is the commit order, so no row is ever skipped.
 *
 * Changed on both sides since the base: ours stays in place, theirs goes to conflicts/ (and is
 * shared, so everyone sees it); changed on one side and deleted on the other: the change is kept.
 * Deletions travel as tombstones (rows without content). Without the server nothing changes
 * locally and work goes on; the next sync catches up.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StratumError, unavailableError, validationError } from '@stratumiops/shared/errors';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import type pg from 'pg';
import { conflictsDir, keepTheirs, type SyncConflict } from '../core/conflicts.js';
import { isProblem } from '../core/markdown.js';
import type { Store } from '../core/store.js';

/** Files sent in one statement. */
const PUSH_BATCH = 500;

/** Bumped with each migration below; a server with a newer schema is refused. */
export const SCHEMA_VERSION = 1;

const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS kogral_meta (key text PRIMARY KEY, value text NOT NULL);
   CREATE SEQUENCE IF NOT EXISTS kogral_seq;
   CREATE TABLE IF NOT EXISTS kogral_nodes (
     graph text NOT NULL,
     key text NOT NULL,
     path text NOT NULL,
     content bytea,
     hash text,
     updated_at timestamptz NOT NULL,
     author text NOT NULL DEFAULT '',
     seq bigint NOT NULL,
     PRIMARY KEY (graph, key)
   );
   CREATE INDEX IF NOT EXISTS kogral_nodes_seq ON kogral_nodes (graph, seq);`,
];

export interface PgSyncOptions {
  url: string;
  /** The shared graph's name on the server (several graphs can share one database). */
  graph: string;
  /** Used when the URL has none (from the environment). */
  password?: string;
  /** Name on rows and in conflict files. */
  author?: string;
  now?: () => Date;
  dryRun?: boolean;
}

export interface PgSyncResult {
  graph: string;
  /** Files the server changed here (relative to the graph folder). */
  pulled: string[];
  /** Files removed here because they were deleted elsewhere. */
  removed: string[];
  /** Files (or tombstones) sent to the server. */
  pushed: string[];
  conflicts: SyncConflict[];
  /** Node files that could not be read as nodes: not synced until fixed. */
  skipped: string[];
  dryRun: boolean;
}

interface BaseEntry {
  path: string;
  /** sha256 of the content, null for a tombstone. */
  hash: string | null;
  seq: number;
  mtimeMs?: number;
  size?: number;
}

interface SyncState {
  version: 1;
  graph: string;
  lastSeq: number;
  /** When the state was written (ms): a file modified close to it is read again, whatever its mtime says. */
  savedAt?: number;
  files: Record<string, BaseEntry>;
}

interface Local {
  key: string;
  path: string;
  hash: string;
  mtimeMs: number;
  size: number;
  updated?: string;
}

interface Row {
  key: string;
  path: string;
  content: Buffer | null;
  hash: string | null;
  author: string;
  seq: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

/** Per server and graph, not per user: another role on the same database is the same shared graph. */
const stateFile = (store: Store, graph: string, url: string) => {
  const u = url.replace(/^(\w+:\/\/)[^@/]*@/, '$1').replace(/[?#].*$/, '');
  return join(store.dir, '.sync', `${createHash('sha256').update(`${u}\n${graph}`).digest('hex').slice(0, 16)}.json`);
};

function loadState(file: string, graph: string): SyncState {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as SyncState;
    if (s.version === 1 && s.graph === graph && typeof s.lastSeq === 'number') return s;
  } catch {}
  return { version: 1, graph, lastSeq: 0, files: {} };
}

function saveState(file: string, state: SyncState): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  // Per clone, never shared: keep it out of git.
  if (!existsSync(join(dir, '.gitignore'))) writeFileSync(join(dir, '.gitignore'), '*\n');
  writeFileAtomic(file, JSON.stringify(state));
}

/**
 * The graph's own files now: node files by id (the first by path of two with one id, as
 * everywhere else) and conflict files by name. A file whose size and mtime match the base is not
 * read again.
 */
function scan(store: Store, state: SyncState, skipped: string[]): Map<string, Local> {
  const byPath = new Map(Object.entries(state.files).map(([key, b]) => [b.path, { key, ...b }]));
  const out = new Map<string, Local>();
  const files = store
    .listPaths()
    .filter((f) => !store.isForeign(f.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const add = (path: string, keyOf: (buf: Buffer) => { key: string; updated?: string } | undefined) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) return;
    const rel = store.rel(path);
    const base = byPath.get(rel);
    const settled = st.mtimeMs < (state.savedAt ?? 0) - 2000;
    if (base?.hash && settled && base.mtimeMs === st.mtimeMs && base.size === st.size) {
      if (!out.has(base.key))
        out.set(base.key, { key: base.key, path: rel, hash: base.hash, mtimeMs: st.mtimeMs, size: st.size });
      return;
    }
    const buf = readFileSync(path);
    const k = keyOf(buf);
    if (!k) return void skipped.push(rel);
    if (out.has(k.key)) return void skipped.push(rel);
    out.set(k.key, { ...k, path: rel, hash: sha256(buf), mtimeMs: st.mtimeMs, size: st.size });
  };
  for (const f of files)
    add(f.path, (buf) => {
      const n = store.parse(buf, f.path, f.type);
      return isProblem(n) ? undefined : { key: n.id, updated: n.updated };
    });
  const cdir = conflictsDir(store);
  let names: string[] = [];
  try {
    names = readdirSync(cdir);
  } catch {}
  for (const name of names.sort())
    if (name.endsWith('.md') && !name.startsWith('.')) add(join(cdir, name), () => ({ key: `conflicts/${name}` }));
  return out;
}

async function migrate(client: pg.Client): Promise<void> {
  await client.query('SELECT pg_advisory_lock(hashtext($1))', ['kogral-schema']);
  try {
    // Read first: a role that may only read and write kogral's tables cannot run CREATE, not even IF NOT EXISTS.
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass('kogral_meta') AS t");
    const r = exists.rows[0]?.t
      ? await client.query<{ value: string }>("SELECT value FROM kogral_meta WHERE key = 'schema_version'")
      : { rows: [] };
    const have = r.rows[0] ? Number(r.rows[0].value) : 0;
    if (have > SCHEMA_VERSION)
      throw validationError(
        `the server's kogral schema is version ${have}, newer than this kogral (${SCHEMA_VERSION})`,
        {
          hint: 'upgrade kogral',
        },
      );
    for (let v = have; v < SCHEMA_VERSION; v++) {
      await client.query('BEGIN');
      await client.query(MIGRATIONS[v] as string);
      await client.query(
        "INSERT INTO kogral_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = $1",
        [String(v + 1)],
      );
      await client.query('COMMIT');
    }
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['kogral-schema']).catch(() => {});
  }
}

/** Runs one sync. The caller holds the graph lock (no local writer runs meanwhile). */
export async function pgSync(store: Store, opts: PgSyncOptions): Promise<PgSyncResult> {
  const now = opts.now ?? (() => new Date());
  const author = opts.author || 'kogral';
  const { default: pgLib } = await import('pg');
  const client = new pgLib.Client({
    connectionString: opts.url,
    ...(opts.password && !/^\w+:\/\/[^/@]*:[^@]*@/.test(opts.url) ? { password: opts.password } : {}),
    connectionTimeoutMillis: 10_000,
    application_name: 'kogral sync',
  });
  client.on('error', () => {}); // a dropped connection surfaces as the failing query's error
  try {
    await client.connect();
  } catch (e) {
    throw unavailableError(`cannot reach ${redactUrl(opts.url)}: ${(e as Error).message}`, {
      hint: 'nothing changed; keep working, and sync again when the server answers',
    });
  }
  const file = stateFile(store, opts.graph, opts.url);
  const state = loadState(file, opts.graph);
  const result: PgSyncResult = {
    graph: opts.graph,
    pulled: [],
    removed: [],
    pushed: [],
    conflicts: [],
    skipped: [],
    dryRun: Boolean(opts.dryRun),
  };
  try {
    await migrate(client);
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kogral-graph:${opts.graph}`]);
    const locals = scan(store, state, result.skipped);
    // Files here that cannot be read as nodes (a broken edit, a duplicate id): never taken for
    // deletions, never overwritten by the server's version (that one is kept as a conflict).
    const unreadable = new Set(result.skipped);
    const rows = await client.query<Row>(
      'SELECT key, path, content, hash, author, seq FROM kogral_nodes WHERE graph = $1 AND seq > $2 ORDER BY seq',
      [opts.graph, state.lastSeq],
    );
    let lastSeq = state.lastSeq;
    const abs = (rel: string) => join(store.dir, rel);
    /** Only a markdown file under the graph folder is ever written from a row (never ../, never a watched folder). */
    const insideGraph = (rel: string) =>
      !rel.includes('\0') &&
      rel.endsWith('.md') &&
      !rel.startsWith('/') &&
      !rel.split('/').includes('..') &&
      !store.isForeign(abs(rel));

    // 1. What changed on the server since the last sync. Files come in together (written durably
    // first, then the files they replace removed), so a crash never leaves one missing.
    const writes: { key: string; rel: string; content: Buffer }[] = [];
    const unlinks: string[] = [];
    for (const r of rows.rows) {
      const seq = Number(r.seq);
      lastSeq = Math.max(lastSeq, seq);
      const base = state.files[r.key];
      const local = locals.get(r.key);
      const baseHash = base?.hash ?? null;
      const localHash = local?.hash ?? null;
      const rel = r.path;
      if (!insideGraph(rel)) {
        result.skipped.push(`${JSON.stringify(rel)} (from the server: outside the graph folder, refused)`);
        continue;
      }
      if (r.content && r.content.length > store.maxBytes) {
        // Another writer's limit may be higher: never write here what every read would refuse.
        result.skipped.push(`${rel} (from the server: ${r.content.length} bytes, over this graph's limit)`);
        continue;
      }
      const agree = () => {
        state.files[r.key] = { path: local?.path ?? rel, hash: r.hash, seq, ...stamp(local) };
      };
      if (localHash === r.hash) {
        agree();
        continue;
      }
      const blocked = [rel, base?.path].find((p) => p !== undefined && unreadable.has(p));
      if (blocked && r.content) {
        if (!opts.dryRun) {
          const kept = keepTheirs(store, blocked, r.content, r.author, now());
          const st = statSync(kept);
          const key = `conflicts/${kept.split('/').pop()}`;
          locals.set(key, { key, path: store.rel(kept), hash: sha256(r.content), mtimeMs: st.mtimeMs, size: st.size });
          result.conflicts.push({ path: blocked, kind: 'both_changed', theirs: store.rel(kept) });
        } else result.conflicts.push({ path: blocked, kind: 'both_changed' });
        state.files[r.key] = { path: blocked, hash: r.hash, seq };
        continue;
      }
      if (opts.dryRun) {
        if (localHash !== baseHash) result.conflicts.push({ path: rel, kind: 'both_changed' });
        else (r.content ? result.pulled : result.removed).push(rel);
        continue;
      }
      const take = () => {
        if (local && (local.path !== rel || !r.content)) unlinks.push(local.path);
        if (r.content) {
          writes.push({ key: r.key, rel, content: r.content });
          locals.set(r.key, { key: r.key, path: rel, hash: r.hash as string, mtimeMs: 0, size: r.content.length });
          state.files[r.key] = { path: rel, hash: r.hash, seq };
        } else {
          locals.delete(r.key);
          state.files[r.key] = { path: rel, hash: null, seq };
        }
      };
      if (localHash === baseHash) {
        // Changed only there.
        take();
        (r.content ? result.pulled : result.removed).push(rel);
      } else if (local && r.content) {
        // Changed on both sides: ours stays, theirs is kept beside it (and shared below).
        const kept = keepTheirs(store, local.path, r.content, r.author, now());
        result.conflicts.push({
          path: local.path,
          kind: base ? 'both_changed' : 'both_added',
          theirs: store.rel(kept),
        });
        state.files[r.key] = { path: local.path, hash: r.hash, seq };
        const st = statSync(kept);
        const key = `conflicts/${kept.split('/').pop()}`;
        locals.set(key, { key, path: store.rel(kept), hash: sha256(r.content), mtimeMs: st.mtimeMs, size: st.size });
      } else if (local) {
        // Deleted there, changed here: the change is kept (and goes back up).
        result.conflicts.push({ path: local.path, kind: 'deleted_there' });
        state.files[r.key] = { path: local.path, hash: null, seq };
      } else {
        // Deleted here, changed there: the change is kept.
        take();
        result.conflicts.push({ path: rel, kind: 'deleted_here' });
        result.pulled.push(rel);
      }
    }

    if (writes.length > 0) {
      for (const dir of new Set(writes.map((w) => dirname(abs(w.rel))))) mkdirSync(dir, { recursive: true });
      await store.files.writeMany(writes.map((w) => ({ path: abs(w.rel), data: w.content })));
      for (const w of writes) {
        const st = statSync(abs(w.rel));
        const l = locals.get(w.key);
        if (l) Object.assign(l, { mtimeMs: st.mtimeMs, size: st.size });
        const b = state.files[w.key];
        if (b) Object.assign(b, { mtimeMs: st.mtimeMs, size: st.size });
      }
    }
    const written = new Set(writes.map((w) => w.rel));
    for (const rel of unlinks) if (!written.has(rel) && existsSync(abs(rel))) unlinkSync(abs(rel));

    // 2. What changed here since the last sync: sent in batches (one statement per 500 files).
    const pending: { key: string; path: string; local?: Local }[] = [];
    for (const l of locals.values()) {
      const base = state.files[l.key];
      if (base?.hash === l.hash && base.path === l.path) Object.assign(base, stamp(l));
      else pending.push({ key: l.key, path: l.path, local: l });
    }
    for (const [key, base] of Object.entries(state.files))
      if (base.hash !== null && !locals.has(key) && !unreadable.has(base.path)) pending.push({ key, path: base.path });
    result.pushed = pending.map((p) => p.path);
    for (let i = 0; i < pending.length && !opts.dryRun; i += PUSH_BATCH) {
      const batch = pending.slice(i, i + PUSH_BATCH).map((p) => {
        // Read now, not at scan time: what is sent is what the base will say was sent.
        const content = p.local ? readFileSync(abs(p.path)) : null;
        const updated = p.local?.updated;
        return {
          ...p,
          content,
          hash: content ? sha256(content) : null,
          at: updated && !Number.isNaN(Date.parse(updated)) ? new Date(updated) : now(),
        };
      });
      const r = await client.query<{ key: string; seq: string }>(
        `INSERT INTO kogral_nodes (graph, key, path, content, hash, updated_at, author, seq)
         SELECT $1, t.key, t.path, t.content, t.hash, t.at, $2, nextval('kogral_seq')
           FROM unnest($3::text[], $4::text[], $5::bytea[], $6::text[], $7::timestamptz[]) AS t(key, path, content, hash, at)
         ON CONFLICT (graph, key) DO UPDATE SET path = EXCLUDED.path, content = EXCLUDED.content, hash = EXCLUDED.hash,
           updated_at = EXCLUDED.updated_at, author = EXCLUDED.author, seq = EXCLUDED.seq
         RETURNING key, seq`,
        [
          opts.graph,
          author,
          batch.map((b) => b.key),
          batch.map((b) => b.path),
          batch.map((b) => b.content),
          batch.map((b) => b.hash),
          batch.map((b) => b.at),
        ],
      );
      const seqs = new Map(r.rows.map((row) => [row.key, Number(row.seq)]));
      for (const b of batch) {
        const seq = seqs.get(b.key);
        if (seq === undefined) throw new Error(`the server did not store ${b.path}`);
        lastSeq = Math.max(lastSeq, seq);
        state.files[b.key] = { path: b.path, hash: b.hash, seq, ...stamp(b.local) };
      }
    }
    if (opts.dryRun) {
      await client.query('ROLLBACK');
      return result;
    }
    await client.query('COMMIT');
    state.lastSeq = lastSeq;
    state.savedAt = Date.now();
    saveState(file, state);
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (e instanceof StratumError) throw e;
    throw unavailableError(`sync with ${redactUrl(opts.url)} failed: ${(e as Error).message}`, {
      hint: 'nothing was committed on the server; sync again',
    });
  } finally {
    await client.end().catch(() => {});
  }
}

const stamp = (l: Local | undefined) => (l ? { mtimeMs: l.mtimeMs, size: l.size } : {});
