import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { SqliteIndex } from '../src/adapters/sqlite-index.js';
import { graphLookup, IndexedLookup, type NodeLookup } from '../src/core/catalog.js';
import type { Edge } from '../src/core/graph.js';
import { tempGraph } from './helpers.js';

const byText = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
const sorted = <T>(xs: T[]) => [...xs].sort(byText);

/** A graph with every way a node can be named and linked, plus files that are not nodes. */
async function trickyGraph() {
  const g = tempGraph();
  const a = (await g.kg.add({ type: 'decision', title: 'Use PostgreSQL 16', tags: ['DB', 'adr'] })).node;
  await g.kg.add({
    type: 'note',
    title: 'Connection pooling',
    aliases: ['PgBouncer setup'],
    fields: { body: 'See [[Use PostgreSQL 16]] and [[use-postgresql-16!]] and [[Nowhere]] and `[[in code]]`.' },
  });
  await g.kg.add({ type: 'note', title: 'Pool sizing', fields: { body: 'Follows [[pgbouncer setup]].' } });
  await g.kg.add({
    type: 'decision',
    title: 'Use PostgreSQL 17',
    relations: [{ type: 'supersedes', target: a.id, weight: 1 }],
  });
  await g.kg.link('pool sizing', 'Connection pooling', 'depends_on', 0.5);
  const notes = join(g.dir, 'notes');
  mkdirSync(notes, { recursive: true });
  // Imported page named by its source path; a duplicate id; a broken file; a self link.
  writeFileSync(
    join(notes, 'imported.md'),
    '---\nid: imported-page\ntype: note\ntitle: Imported\nsource: pages/Imported Page.md\n---\n\nBack to [[Connection pooling]] and [[Imported]].\n',
  );
  writeFileSync(
    join(notes, 'linker.md'),
    '---\nid: linker\ntype: note\ntitle: Linker\n---\n\n[[pages/Imported Page]]\n',
  );
  writeFileSync(join(notes, 'dup.md'), '---\nid: linker\ntype: note\ntitle: Second linker\n---\n\nx\n');
  writeFileSync(join(notes, 'broken.md'), '---\nid: broken\ntype: [unclosed\n---\n');
  return g;
}

describe('list and show from the index', () => {
  it('answer exactly what the whole graph in memory answers', async () => {
    const g = await trickyGraph();
    const index = new SqliteIndex(g.store);
    index.refresh();
    const fromFiles = graphLookup(g.kg.graph());
    const fromIndex: NodeLookup = new IndexedLookup(g.store, index);

    expect(sorted(fromIndex.problems)).toEqual(sorted(fromFiles.problems));
    expect(fromIndex.problems.map((p) => p.message).join('\n')).toMatch(/duplicate id 'linker'/);
    for (const f of [{}, { type: 'decision' as const }, { tags: ['db'] }, { status: 'SUPERSEDED' }, { tags: ['x'] }]) {
      expect(sorted(fromIndex.entries(f).entries)).toEqual(sorted(fromFiles.entries(f).entries));
      for (const sort of ['updated', 'created', 'title', 'id'] as const)
        for (const limit of [undefined, 2])
          expect(fromIndex.entries({ ...f, sort, limit })).toEqual(fromFiles.entries({ ...f, sort, limit }));
    }

    const ids = fromFiles.entries({}).entries.map((e) => e.id);
    expect(ids).toHaveLength(6);
    const refs = [
      ...ids,
      'Use PostgreSQL 16',
      'pgbouncer setup',
      'PgBouncer Setup!',
      'pages/imported page.md',
      'pages/Imported Page',
      'pool-siz',
      'use-postgresql-1',
      'nothing here',
    ];
    for (const ref of refs) expect(fromIndex.resolve(ref)?.node.id, ref).toBe(fromFiles.resolve(ref)?.node.id);
    const edges = (l: NodeLookup, id: string): { out: Edge[]; back: Edge[] } => {
      const s = l.resolve(id);
      if (!s) throw new Error(`no ${id}`);
      return { out: l.outgoing(s.node), back: sorted(l.backlinks(id)) };
    };
    for (const id of ids) {
      expect(edges(fromIndex, id), id).toEqual(edges(fromFiles, id));
      expect(fromIndex.title(id)).toBe(fromFiles.title(id));
    }
    // The cases above are not vacuous.
    const pooling = fromFiles.resolve('Connection pooling');
    expect(pooling && fromFiles.backlinks(pooling.node.id).map((e) => e.via)).toEqual(
      expect.arrayContaining(['wikilink', 'frontmatter']),
    );
    index.close();
  });

  it('skips the per-file comparison only when no file changed', async () => {
    const g = await trickyGraph();
    const index = new SqliteIndex(g.store);
    expect(index.refresh().added).toBe(8);
    expect(index.refresh()).toMatchObject({ added: 0, updated: 0, unchanged: 8 });
    // A rebuild right after an unchanged refresh still indexes every file.
    expect(index.rebuild().added).toBe(8);
    // An in-place edit of the same size is seen (its mtime moved).
    const notes = join(g.dir, 'notes');
    const file = join(notes, 'imported.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('title: Imported', 'title: Imparted'));
    expect(index.refresh()).toMatchObject({ updated: 1 });
    expect(new IndexedLookup(g.store, index).title('imported-page')).toBe('Imparted');
    index.close();
  });

  it('show and list still answer from the files when the index cannot be opened', async () => {
    const { cwd, env } = sandbox();
    const kg = (args: string[]) => runBin('kogral', args, { cwd, env });
    expect((await kg(['init'])).code).toBe(0);
    expect((await kg(['add', 'note', 'Pool sizing', '--body', 'Twice the cores.'])).code).toBe(0);
    // A folder where the index file should be: SQLite cannot open it.
    mkdirSync(join(cwd, '.kogral', 'index.db'), { recursive: true });
    const list = await kg(['list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).nodes.map((n: { title: string }) => n.title)).toEqual(['Pool sizing']);
    expect(list.stderr).toMatch(/search index unavailable .*reading every file instead/);
    const show = await kg(['show', 'Pool sizing', '--json']);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout).body).toContain('Twice the cores.');
  });
});
