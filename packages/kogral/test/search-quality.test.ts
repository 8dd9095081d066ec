import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteIndex } from '../src/adapters/sqlite-index.js';
import { NgramEmbedder } from '../src/core/search/embedder.js';
import { SearchEngine } from '../src/core/search/engine.js';
import { devQueries } from './fixtures/dev-queries.js';
import { type EvalQuery, heldOut } from './fixtures/search-queries.js';
import { corpusGraph, haveCorpora } from './helpers.js';

const run = haveCorpora();

async function hitRate(engine: SearchEngine, queries: EvalQuery[], semantic: boolean) {
  const byKind: Record<string, { hit: number; n: number }> = {};
  const misses: string[] = [];
  let hit = 0;
  let mrr = 0;
  for (const q of queries) {
    const r = await engine.search(q.q, { limit: 10, semantic });
    const rank = r.hits.findIndex((h) => q.expect.some((e) => `${h.source_root}/${h.source}`.includes(e)));
    if (rank >= 0) mrr += 1 / (rank + 1);
    const ok = rank >= 0 && rank < 3;
    byKind[q.kind] ??= { hit: 0, n: 0 };
    const k = byKind[q.kind] as { hit: number; n: number };
    k.n++;
    if (ok) {
      hit++;
      k.hit++;
    } else misses.push(`${q.kind}: "${q.q}" → ${r.hits.map((h) => h.title).join(' | ')}`);
  }
  return { hit, n: queries.length, byKind, misses, mrr: Math.round((mrr / queries.length) * 1000) / 1000 };
}

describe.skipIf(!run)('search quality on the real corpora (hit@3)', { timeout: 120_000 }, () => {
  let index: SqliteIndex;
  beforeAll(async () => {
    ({ index } = await corpusGraph());
  });
  afterAll(() => index?.close());

  it('the hybrid (--semantic) ranking beats plain BM25 on the held-out queries', async () => {
    const bm25 = await hitRate(new SearchEngine(index), heldOut, false);
    const hybrid = await hitRate(new SearchEngine(index, new NgramEmbedder()), heldOut, true);
    const dev = await hitRate(new SearchEngine(index, new NgramEmbedder()), devQueries, true);
    const devBm = await hitRate(new SearchEngine(index), devQueries, false);
    const fmt = (r: typeof bm25) =>
      `${r.hit}/${r.n}, MRR@10 ${r.mrr} (${Object.entries(r.byKind)
        .map(([k, v]) => `${k} ${v.hit}/${v.n}`)
        .join(', ')})`;
    console.log(`held-out, ${index.count()} nodes: BM25 ${fmt(bm25)}; hybrid ${fmt(hybrid)}`);
    console.log(`dev set: BM25 ${fmt(devBm)}; hybrid ${fmt(dev)}`);
    if (process.env.KOGRAL_EVAL_VERBOSE) {
      console.log(`BM25 misses:\n  ${bm25.misses.join('\n  ')}`);
      console.log(`hybrid misses:\n  ${hybrid.misses.join('\n  ')}`);
      console.log(`dev hybrid misses:\n  ${dev.misses.join('\n  ')}`);
      console.log(`dev bm25 misses:\n  ${devBm.misses.join('\n  ')}`);
    }
    expect(hybrid.hit).toBeGreaterThan(bm25.hit);
    expect(hybrid.hit).toBeGreaterThanOrEqual(27);
    const kinds = ['paraphrase', 'semantic'] as const;
    for (const k of kinds) expect(hybrid.byKind[k]?.hit).toBeGreaterThanOrEqual(bm25.byKind[k]?.hit ?? 0);
  });
});
