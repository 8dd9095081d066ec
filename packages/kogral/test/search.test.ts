import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteIndex } from '../src/adapters/sqlite-index.js';
import { NgramEmbedder } from '../src/core/search/embedder.js';
import { rrf, SearchEngine, synonymsFor } from '../src/core/search/engine.js';
import { orQuery, queryTerms } from '../src/core/search/text.js';
import { tempGraph } from './helpers.js';

async function seeded() {
  const g = tempGraph();
  const add = (type: 'note' | 'execution' | 'decision' | 'pattern', title: string, body: string, tags: string[] = []) =>
    g.kg.add({ type, title, fields: { body, root_cause: body, resolution: 'fixed', context: body }, tags });
  const pool = await add(
    'execution',
    'PostgreSQL connection pool exhaustion',
    'The app leaked connections until max_connections was reached.',
    ['database', 'incident'],
  );
  const nginx = await add(
    'note',
    'Nginx 502 troubleshooting',
    'Bad gateway from the upstream: check the upstream health and timeouts.',
    ['nginx', 'runbook'],
  );
  const cert = await add(
    'decision',
    'Use cert-manager for TLS',
    'Certificates are issued by cert-manager and renewed automatically. Also C++ and OR.',
    ['tls'],
  );
  const hpa = await add('note', 'KubeHpaMaxedOut', 'The horizontal pod autoscaler runs at its maximum replicas.', [
    'kubernetes',
  ]);
  const body = await add(
    'note',
    'Release checklist',
    'Mention postgres only once in a long body about releases and rollouts.',
  );
  const index = new SqliteIndex(g.store);
  index.refresh();
  return { ...g, index, pool, nginx, cert, hpa, body };
}

describe('query handling', () => {
  it('quotes every term, so FTS5 syntax in user text is just words', () => {
    expect(orQuery(queryTerms('cert-manager'))).toBe('"cert" OR "manager"');
    expect(orQuery(queryTerms('C++'))).toBe('"c"');
    expect(orQuery(queryTerms('OR'))).toBe('"or"');
    expect(orQuery(queryTerms('rating:: 8 "unbalanced'))).toBe('"rating" OR "8" OR "unbalanced"');
    expect(orQuery(queryTerms('+++ ***'))).toBeUndefined();
    expect(queryTerms('how to fix the KubeHpaMaxedOut alert')).toEqual([
      'fix',
      'kubehpamaxedout',
      'kube',
      'hpa',
      'maxed',
      'alert',
    ]);
  });

  it('expands with the ops synonym list, and fuses ranked lists by reciprocal rank', () => {
    expect(synonymsFor('database ran out of connections')).toEqual(expect.arrayContaining(['postgres', 'exhaustion']));
    expect(synonymsFor('bad gateway')).toContain('502');
    expect(synonymsFor('nothing related here')).toEqual([]);
    const fused = rrf(
      [
        { rowids: [1, 2, 3], weight: 1 },
        { rowids: [3, 1], weight: 1 },
      ],
      60,
    );
    expect(fused.map((f) => f.rowid)).toEqual([1, 3, 2]);
  });
});

describe('search index (SQLite FTS5)', () => {
  it('ranks title and tags above the body, filters by type, tag and status, and highlights snippets', async () => {
    const s = await seeded();
    const e = new SearchEngine(s.index);
    const r = await e.search('postgres');
    expect(r.hits[0]?.id).toBe(s.pool.node.id);
    expect(r.hits.map((h) => h.id)).toContain(s.body.node.id);
    expect((await e.search('postgres', { type: 'note' })).hits.map((h) => h.id)).toEqual([s.body.node.id]);
    expect((await e.search('upstream', { tags: ['runbook'] })).hits.map((h) => h.id)).toEqual([s.nginx.node.id]);
    expect((await e.search('upstream', { tags: ['database'] })).hits).toEqual([]);
    expect((await e.search('postgres', { status: 'RESOLVED' })).hits.map((h) => h.id)).toEqual([s.pool.node.id]);
    const sn = (await e.search('upstream health')).hits[0]?.snippet ?? '';
    expect(sn).toContain('\u0002upstream\u0003');
    expect((await e.search('hpa maxed')).hits[0]?.id).toBe(s.hpa.node.id); // camelCase identifiers split
  });

  it('never crashes on odd queries', async () => {
    const s = await seeded();
    const e = new SearchEngine(s.index, new NgramEmbedder());
    for (const q of [
      'cert-manager',
      'C++',
      'OR',
      'AND',
      'NOT',
      'NEAR',
      '"',
      '(',
      '*',
      'title:x',
      '^',
      '',
      '   ',
      '💥',
      'a'.repeat(5000),
    ])
      for (const semantic of [false, true]) await expect(e.search(q, { semantic })).resolves.toBeDefined();
    expect((await e.search('cert-manager')).hits[0]?.id).toBe(s.cert.node.id);
  });

  it('is updated incrementally from mtimes and hashes, and is only a cache', async () => {
    const s = await seeded();
    const e = new SearchEngine(s.index);
    expect(s.index.refresh()).toMatchObject({ added: 0, updated: 0, removed: 0, unchanged: 5 });
    // A hand edit: picked up by the next refresh.
    const p = s.nginx.path;
    writeFileSync(p, (await import('node:fs')).readFileSync(p, 'utf8').replace('Bad gateway', 'Flamingo gateway'));
    expect(s.index.refresh()).toMatchObject({ updated: 1 });
    expect((await e.search('flamingo')).hits.map((h) => h.id)).toEqual([s.nginx.node.id]);
    // Touched but unchanged: the hash says so.
    utimesSync(p, new Date(), new Date(Date.now() + 5000));
    expect(s.index.refresh()).toMatchObject({ updated: 0, unchanged: 5 });
    // Deleted by hand.
    rmSync(s.hpa.path);
    expect(s.index.refresh()).toMatchObject({ removed: 1 });
    // A broken file is reported with its line, not indexed, and not fatal.
    writeFileSync(join(s.dir, 'notes', 'bad.md'), '---\nid: bad\ntype: nope\n---\n');
    const st = s.index.refresh();
    expect(st.problems).toEqual([expect.objectContaining({ line: 3, message: expect.stringMatching(/unknown type/) })]);
    // Deleting the index loses nothing: it is rebuilt from the files.
    s.index.close();
    for (const f of ['index.db', 'index.db-wal', 'index.db-shm']) rmSync(join(s.dir, f), { force: true });
    const again = new SqliteIndex(s.store);
    expect(again.refresh()).toMatchObject({ added: 5 });
    expect((await new SearchEngine(again).search('flamingo')).hits).toHaveLength(1);
    // A corrupt index file is thrown away and rebuilt.
    again.close();
    writeFileSync(join(s.dir, 'index.db'), 'this is not a database');
    rmSync(join(s.dir, 'index.db-wal'), { force: true });
    rmSync(join(s.dir, 'index.db-shm'), { force: true });
    const third = new SqliteIndex(s.store);
    expect(third.refresh().added).toBe(5);
    third.close();
  });

  it('semantic mode finds paraphrases, typos and partial identifiers, and caches vectors by content', async () => {
    const s = await seeded();
    const e = new SearchEngine(s.index, new NgramEmbedder());
    expect((await e.search('database ran out of connections', { semantic: true })).hits[0]?.id).toBe(s.pool.node.id);
    expect((await e.search('bad gateway responses', { semantic: true, limit: 1 })).hits[0]?.id).toBe(s.nginx.node.id);
    expect((await e.search('autoscaler maxd out', { semantic: true, limit: 1 })).hits[0]?.id).toBe(s.hpa.node.id);
    const only = await e.search('database ran out of connections', { semantic: true, type: 'note' });
    expect(only.hits.every((h) => h.type === 'note')).toBe(true);
    // A fresh engine over the same index embeds no document again: their vectors come from the cache.
    class Counting extends NgramEmbedder {
      texts: string[] = [];
      override async embedBatch(texts: string[]) {
        this.texts.push(...texts);
        return super.embedBatch(texts);
      }
    }
    const counting = new Counting();
    const fresh = new SearchEngine(new SqliteIndex(s.store), counting);
    expect((await fresh.search('database ran out of connections', { semantic: true })).hits[0]?.id).toBe(
      s.pool.node.id,
    );
    expect(counting.texts).toEqual([]);
  });
});

describe('watching the graph (kogral serve)', () => {
  it('picks up hand edits, new files, new type folders and deletions without a full scan', async () => {
    const { App } = await import('../src/runtime.js');
    const { configSchema } = await import('../src/tool.js');
    const g = tempGraph();
    const a = await g.kg.add({ type: 'note', title: 'Alpha', fields: { body: 'first words' } });
    const app = new App(g.dir, { config: configSchema.parse({}), warn: () => {} });
    await app.watch();
    const find = async (q: string) => (await (await app.engine(false)).search(q)).hits.map((h) => h.id);
    try {
      expect(await find('first')).toEqual([a.node.id]);
      const { readFileSync } = await import('node:fs');
      writeFileSync(a.path, readFileSync(a.path, 'utf8').replace('first words', 'zebra words'));
      const b = await g.kg.add({ type: 'pattern', title: 'Beta', fields: { body: 'zebra pattern' } }); // new folder
      await new Promise((r) => setTimeout(r, 100));
      expect((await find('zebra')).sort()).toEqual([a.node.id, b.node.id].sort());
      rmSync(b.path);
      await new Promise((r) => setTimeout(r, 100));
      expect(await find('zebra')).toEqual([a.node.id]);
    } finally {
      app.close();
    }
  });
});
