import { cosine, type Embedder, NgramEmbedder } from './embedder.js';
import { OPS_SYNONYMS } from './synonyms.js';
import { ftsQuote, orQuery, queryTerms, STOPWORDS, stem, words } from './text.js';
import type { Hit, SearchFilters, SearchIndex } from './types.js';

export interface SearchOptions extends SearchFilters {
  limit?: number;
  /** Hybrid ranking: BM25, expanded BM25, names, vectors and links, fused by reciprocal rank. */
  semantic?: boolean;
}

export interface SearchResult {
  query: string;
  mode: 'text' | 'hybrid';
  hits: Hit[];
  /** Words and phrases the hybrid mode added to the query. */
  expanded?: string[];
  ms: number;
}

/** Weights of each ranked list in the fusion, and the RRF constant. */
export interface FusionWeights {
  k: number;
  bm25: number;
  expanded: number;
  names: number;
  vectors: number;
  links: number;
}

export const DEFAULT_FUSION: FusionWeights = { k: 20, bm25: 1, expanded: 1, names: 0.6, vectors: 0.5, links: 0.15 };

type Group = { members: string[][]; raw: string[] };
const GROUPS: Group[] = OPS_SYNONYMS.map((g) => ({ raw: g, members: g.map((m) => words(m).map(stem)) }));

/** Synonym phrases for a query, from the ops list: members of every group the query touches. */
export function synonymsFor(query: string, groups: Group[] = GROUPS): string[] {
  const q = words(query).map(stem);
  const has = (m: string[]) => {
    if (m.length === 0) return false;
    for (let i = 0; i + m.length <= q.length; i++) if (m.every((w, k) => q[i + k] === w)) return true;
    return false;
  };
  const out: string[] = [];
  const own = new Set(q);
  for (const g of groups) {
    if (!g.members.some(has)) continue;
    g.raw.forEach((phrase, i) => {
      const m = g.members[i] as string[];
      if (has(m) || m.every((w) => own.has(w))) return;
      if (m.length === 1 && STOPWORDS.has(m[0] as string)) return;
      if (!out.includes(phrase)) out.push(phrase);
    });
  }
  return out;
}

/** Word n-grams (1–4 words) of a query, lowercase: candidate titles and aliases. */
function nameCandidates(query: string): string[] {
  const w = query
    .toLowerCase()
    .split(/\s+/)
    .map((x) => x.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter(Boolean);
  const out = new Set<string>([query.trim().toLowerCase()]);
  for (let n = 1; n <= 4; n++)
    for (let i = 0; i + n <= w.length; i++) {
      const g = w.slice(i, i + n);
      if (n === 1 && (STOPWORDS.has(g[0] as string) || (g[0] as string).length < 3)) continue;
      out.add(g.join(' '));
    }
  return [...out];
}

/** Reciprocal rank fusion of ranked lists of row ids. */
export function rrf(lists: { rowids: number[]; weight: number }[], k: number): { rowid: number; score: number }[] {
  const score = new Map<number, number>();
  for (const l of lists) {
    l.rowids.forEach((r, rank) => {
      score.set(r, (score.get(r) ?? 0) + l.weight / (k + rank + 1));
    });
  }
  return [...score.entries()].map(([rowid, s]) => ({ rowid, score: s })).sort((a, b) => b.score - a.score);
}

/**
 * Search over an index: BM25 text search, or (semantic) a hybrid of BM25, BM25 on the query
 * expanded with ops synonyms, exact title/alias matches, embedding similarity and 1-hop links.
 */
export class SearchEngine {
  constructor(
    private readonly index: SearchIndex,
    private readonly embedder?: Embedder,
    private readonly fusion: FusionWeights = DEFAULT_FUSION,
  ) {}

  async search(query: string, opts: SearchOptions = {}): Promise<SearchResult> {
    const t0 = performance.now();
    const limit = opts.limit ?? 10;
    const filters: SearchFilters = {
      ...(opts.type ? { type: opts.type } : {}),
      ...(opts.tags?.length ? { tags: opts.tags } : {}),
      ...(opts.status ? { status: opts.status } : {}),
    };
    const match = orQuery(queryTerms(query));
    if (!opts.semantic) {
      if (!match) return { query, mode: 'text', hits: [], ms: performance.now() - t0 };
      const ranked = this.index.bm25(match, filters, limit);
      const scoreOf = new Map(ranked.map((r) => [r.rowid, r.score]));
      const hits = this.index.hits(
        ranked.map((r) => r.rowid),
        match,
      );
      return {
        query,
        mode: 'text',
        hits: hits.map(({ rowid, ...h }) => ({ ...h, score: round(-(scoreOf.get(rowid) ?? 0)) })),
        ms: performance.now() - t0,
      };
    }

    const depth = Math.max(50, limit * 3);
    const expanded = synonymsFor(query);
    const lists: { rowids: number[]; weight: number }[] = [];
    const w = this.fusion;
    const bm = match ? this.index.bm25(match, filters, depth).map((r) => r.rowid) : [];
    lists.push({ rowids: bm, weight: w.bm25 });
    const expMatch = expanded.length > 0 ? [match, ...expanded.map(ftsQuote)].filter(Boolean).join(' OR ') : undefined;
    if (expMatch)
      lists.push({ rowids: this.index.bm25(expMatch, filters, depth).map((r) => r.rowid), weight: w.expanded });
    lists.push({ rowids: this.index.byNames(nameCandidates(query), filters), weight: w.names });
    if (this.embedder && w.vectors > 0) {
      const e = this.embedder;
      const { rowids, vectors } = await this.index.vectors(e.name, e.dimensions, (t) => e.embedBatch(t), filters);
      const qtext = [query, ...expanded].join(' ');
      let qv: Float32Array;
      if (e instanceof NgramEmbedder) {
        // Rare query words count more than common ones (IDF from the index).
        const n = Math.max(1, this.index.count());
        const idf = new Map<string, number>();
        qv = e.vector(qtext, (w) => {
          let v = idf.get(w);
          if (v === undefined) {
            v = Math.log(1 + n / (1 + this.index.docFreq(w)));
            idf.set(w, v);
          }
          return v;
        });
      } else qv = await e.embed(qtext);
      lists.push({ rowids: topK(qv, rowids, vectors, depth), weight: w.vectors });
    }
    if (w.links > 0 && bm.length > 0)
      lists.push({ rowids: this.index.neighbours(bm.slice(0, 3), filters), weight: w.links });
    const fused = rrf(lists, w.k).slice(0, limit);
    const hits = this.index.hits(
      fused.map((f) => f.rowid),
      expMatch ?? match,
    );
    const scoreOf = new Map(fused.map((f) => [f.rowid, f.score]));
    const kept = hits.map(({ rowid, ...h }) => ({ ...h, score: round((scoreOf.get(rowid) ?? 0) * 100) }));
    return { query, mode: 'hybrid', hits: kept, expanded, ms: performance.now() - t0 };
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The k rows most similar to `q`, best first, without sorting all of them. */
export function topK(q: Float32Array, rowids: number[], vectors: Float32Array[], k: number): number[] {
  const best: { r: number; s: number }[] = [];
  let floor = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rowids.length; i++) {
    const s = cosine(q, vectors[i] as Float32Array);
    if (best.length >= k && s <= floor) continue;
    let j = best.length;
    while (j > 0 && (best[j - 1] as { s: number }).s < s) j--;
    best.splice(j, 0, { r: rowids[i] as number, s });
    if (best.length > k) best.pop();
    floor = (best[best.length - 1] as { s: number }).s;
  }
  return best.map((b) => b.r);
}
