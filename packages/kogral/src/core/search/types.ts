import type { NodeType } from '../model.js';

export interface SearchFilters {
  type?: NodeType;
  tags?: string[];
  status?: string;
}

export interface Hit {
  id: string;
  type: NodeType;
  title: string;
  status: string;
  tags: string[];
  path: string;
  source?: string;
  source_root?: string;
  score: number;
  /** A piece of the body around the matches, matches wrapped in \u0002 … \u0003. */
  snippet?: string;
}

export interface RefreshStats {
  files: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  problems: { path: string; line?: number; message: string }[];
  ms: number;
}

/** A candidate from one ranked list: the index's row id and its rank (0 = best). */
export interface Ranked {
  rowid: number;
  score: number;
}

/** What the search engine needs from an index (SQLite FTS5 in adapters/sqlite-index.ts). */
export interface SearchIndex {
  /** Brings the index up to date with the files (mtime/size, then content hash). */
  refresh(): RefreshStats;
  /** Drops everything and indexes every file again. */
  rebuild(): RefreshStats;
  /** Updates just these files (after a write by this process). */
  update(written: string[], removed: string[]): void;
  /** BM25 over an FTS5 MATCH expression, best first. */
  bm25(match: string, filters: SearchFilters, limit: number): Ranked[];
  /** Rows whose title or an alias is exactly one of these names (lowercase). */
  byNames(names: string[], filters: SearchFilters): number[];
  /** Rows linked (either direction) to these rows. */
  neighbours(rowids: number[], filters: SearchFilters): number[];
  /** Hits (with snippets for a MATCH expression) for row ids, in the given order. */
  hits(rowids: number[], match: string | undefined): (Hit & { rowid: number })[];
  /** Vectors of every indexed document that passes the filters, computed and cached as needed. */
  vectors(
    model: string,
    dims: number,
    embed: (texts: string[]) => Promise<Float32Array[]>,
    filters: SearchFilters,
  ): Promise<{ rowids: number[]; vectors: Float32Array[] }>;
  count(): number;
  /** How many documents contain a word (for IDF weights of query words). */
  docFreq(word: string): number;
  close(): void;
}

export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';

/** A snippet with its match markers turned into `open`/`close` (or through `wrap`). */
export function markSnippet(s: string | undefined, wrap: (match: string) => string): string {
  const parts = (s ?? '').split(MARK_OPEN);
  return parts
    .map((p, i) => {
      if (i === 0) return p;
      const j = p.indexOf(MARK_CLOSE);
      return j < 0 ? wrap(p) : wrap(p.slice(0, j)) + p.slice(j + 1);
    })
    .join('');
}
