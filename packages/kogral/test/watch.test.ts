import { createHash } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { localFiles } from '../src/adapters/local-files.js';
import { SqliteIndex } from '../src/adapters/sqlite-index.js';
import { Kogral } from '../src/core/kogral.js';
import { SearchEngine } from '../src/core/search/engine.js';
import { sourceFiles } from '../src/core/sources.js';
import { Store } from '../src/core/store.js';
import { corporaDir, haveCorpora, mcpClient } from './helpers.js';

/** Every file under a folder with its sha256: proof that nothing was rewritten. */
function hashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

const runbooks = join(corporaDir, 'prometheus-operator-runbooks');

describe.runIf(haveCorpora())('watched folders (in place, read-only)', { timeout: 120_000 }, () => {
  it('indexes a copy of the runbooks corpus in place; a change is found by the next search; no file rewritten', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kogral-watch-'));
    const docs = join(root, 'docs', 'runbooks');
    cpSync(runbooks, docs, { recursive: true });
    const before = hashes(docs);
    const store = new Store(join(root, '.kogral'), {
      files: localFiles,
      sources: [{ dir: docs, type: 'note', name: 'runbooks' }],
    });
    mkdirSync(store.dir, { recursive: true });
    const kg = new Kogral(store);
    const index = new SqliteIndex(store);
    const engine = new SearchEngine(index);
    index.refresh();

    const files = sourceFiles(localFiles, store.sources[0] as never);
    expect(files.length).toBeGreaterThan(100);
    const hit = (await engine.search('inodes filesystem filling up', { limit: 3, semantic: false })).hits[0];
    expect(hit?.path).toMatch(/^.*docs\/runbooks\/content\/runbooks\/node\/NodeFilesystemFilesFillingUp\.md$/);
    expect(hit?.source).toBe('content/runbooks/node/NodeFilesystemFilesFillingUp.md');

    // Hugo frontmatter stays in the index: title from it, other keys as metadata.
    const g = kg.graph();
    const node = g.nodes.find((s) => s.path === hit?.path);
    expect(node?.node.title).toBe('Node Filesystem Files Filling Up');
    expect(node?.node.metadata.weight).toBe(20);
    expect(g.problems).toEqual([]);

    // A change to a source file: found by the next refresh + search, no import.
    const changed = hit?.path as string;
    appendFileSync(changed, '\n## Zanzibarquux\n\nCheck the zanzibarquux counter.\n');
    expect((await engine.search('zanzibarquux', { semantic: false })).hits).toHaveLength(0);
    index.refresh();
    const found = (await engine.search('zanzibarquux', { semantic: false })).hits;
    expect(found.map((h) => h.path)).toEqual([changed]);
    expect(found[0]?.id).toBe(hit?.id); // the id follows the path, not the text

    // Writes are refused with a clear error, and change nothing.
    const id = hit?.id as string;
    await expect(kg.edit(id, { op: 'append', text: 'x' })).rejects.toThrow(/watched folder, which kogral never writes/);
    await expect(kg.move(id, { title: 'New' })).rejects.toThrow(/watched folder/);
    await expect(kg.remove(id, true)).rejects.toThrow(/watched folder/);
    // An owned note may link to a watched file; deleting the owned note never touches the source.
    const own = await kg.add({
      type: 'note',
      title: 'Mine',
      fields: { body: 'See [[Node Filesystem Files Filling Up]].' },
    });
    expect(
      kg
        .graph()
        .backlinks(id)
        .map((e) => e.from),
    ).toEqual([own.node.id]);
    await kg.remove(own.node.id, true);

    const after = hashes(docs);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [p, h] of before) if (p !== changed) expect(after.get(p), p).toBe(h);
    index.close();
  });

  it('watches the real postmortems corpus where it is: searchable, every byte unchanged', async () => {
    const dir = join(corporaDir, 'dfds-postmortems');
    const before = hashes(dir);
    const root = mkdtempSync(join(tmpdir(), 'kogral-watch-'));
    const store = new Store(join(root, '.kogral'), {
      files: localFiles,
      sources: [{ dir, type: 'execution', name: 'dfds' }],
    });
    mkdirSync(store.dir, { recursive: true });
    const index = new SqliteIndex(store);
    index.refresh();
    const hits = (await new SearchEngine(index).search('kubernetes DNS', { limit: 5, semantic: false })).hits;
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) expect(h.path.startsWith(dir)).toBe(true);
    expect(hits[0]?.type).toBe('execution');
    index.close();
    expect(hashes(dir)).toEqual(before);
  });

  it('skips dot folders and symlinks that leave the folder (and symlink loops)', () => {
    const root = mkdtempSync(join(tmpdir(), 'kogral-watch-'));
    const docs = join(root, 'docs');
    mkdirSync(join(docs, '.hidden'), { recursive: true });
    mkdirSync(join(root, 'outside'));
    writeFileSync(join(docs, 'a.md'), '# A\n');
    writeFileSync(join(docs, '.hidden', 'b.md'), '# B\n');
    writeFileSync(join(root, 'outside', 'secret.md'), '# Secret\n');
    symlinkSync(join(root, 'outside'), join(docs, 'escape'));
    symlinkSync(join(root, 'outside', 'secret.md'), join(docs, 'secret.md'));
    symlinkSync(docs, join(docs, 'loop'));
    const skipped: string[] = [];
    const files = sourceFiles(localFiles, { dir: docs, type: 'note', name: 'docs' }, (p) => skipped.push(p));
    expect(files).toEqual([join(docs, 'a.md')]);
    expect(skipped.sort()).toEqual([join(docs, 'escape'), join(docs, 'secret.md')]);
  });
});

describe('kogral watch from the CLI and under kogral serve', { timeout: 120_000 }, () => {
  it('watch add / list / remove; bad folders refused; foreign nodes read-only', async () => {
    const { cwd, env } = sandbox();
    const kg = (args: string[]) => runBin('kogral', args, { cwd, env, timeoutMs: 30_000 });
    expect((await kg(['init'])).code).toBe(0);
    mkdirSync(join(cwd, 'docs', 'runbooks'), { recursive: true });
    const rb = join(cwd, 'docs', 'runbooks', 'redis-oom.md');
    writeFileSync(rb, '---\ntitle: Redis OOM\ntags: [redis]\nowner: sre\n---\n\n## Meaning\n\nRedis hit maxmemory.\n');
    const before = readFileSync(rb);

    expect((await kg(['watch', 'add', 'nope'])).code).toBe(4);
    expect((await kg(['watch', 'add', '.'])).code).toBe(2); // holds .kogral
    const add = await kg(['watch', 'add', 'docs/runbooks', '--json']);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ path: 'docs/runbooks', name: 'runbooks', files: 1 });
    expect(readFileSync(join(cwd, '.kogral', 'config.toml'), 'utf8')).toContain('[[sources]]\npath = "docs/runbooks"');
    expect((await kg(['watch', 'add', 'docs'])).code).toBe(6); // overlaps

    const s = JSON.parse((await kg(['search', 'maxmemory', '--json'])).stdout);
    const hit = s.hits[0];
    expect(hit).toMatchObject({ title: 'Redis OOM', path: rb, source: 'redis-oom.md' });
    const shown = JSON.parse((await kg(['show', hit.id, '--json'])).stdout);
    expect(shown).toMatchObject({ tags: ['redis'], metadata: { owner: 'sre' } });
    const ed = await kg(['edit', hit.id, '--append', '--body', 'x']);
    expect(ed.code).toBe(3);
    expect(ed.stderr).toMatch(/watched folder/);

    writeFileSync(rb, `${before.toString()}\nAlso check evictions of quokkaish keys.\n`);
    expect(JSON.parse((await kg(['search', 'quokkaish', '--json'])).stdout).hits[0]?.id).toBe(hit.id);

    const list = JSON.parse((await kg(['watch', 'list', '--json'])).stdout);
    expect(list.sources).toMatchObject([{ name: 'runbooks', type: 'note', files: 1 }]);
    expect((await kg(['watch', 'remove', 'runbooks'])).code).toBe(0);
    expect((await kg(['watch', 'remove', 'runbooks'])).code).toBe(4);
    expect(JSON.parse((await kg(['search', 'quokkaish', '--json'])).stdout).hits).toEqual([]);
    expect(readFileSync(rb, 'utf8')).toContain('quokkaish'); // untouched
  });

  it('kogral serve follows a watched folder: a new file is found without an import', async () => {
    const { cwd, env } = sandbox();
    expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
    mkdirSync(join(cwd, 'runbooks', 'db'), { recursive: true });
    writeFileSync(join(cwd, 'runbooks', 'db', 'pg.md'), '# PG failover\n\nPromote the replica.\n');
    expect((await runBin('kogral', ['watch', 'add', 'runbooks'], { cwd, env })).code).toBe(0);
    const client = await mcpClient(cwd, env);
    try {
      const search = async (q: string) =>
        (
          (await client.callTool({ name: 'search', arguments: { query: q, semantic: false } })).structuredContent as {
            hits: { path: string }[];
          }
        ).hits;
      expect((await search('replica'))[0]?.path).toBe(join(cwd, 'runbooks', 'db', 'pg.md'));
      const added = join(cwd, 'runbooks', 'db', 'mysql.md');
      writeFileSync(added, '# MySQL lag\n\nCheck the wombatty relay log.\n');
      // File events arrive asynchronously: ask until the watcher has delivered them (bounded, not timed).
      let hits: { path: string }[] = [];
      for (let i = 0; i < 100 && hits.length === 0; i++) {
        hits = await search('wombatty');
        if (hits.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(hits.map((h) => h.path)).toEqual([added]);
      const e = await client.callTool({
        name: 'edit_node',
        arguments: { id: 'PG failover', operation: 'append', content: 'x' },
      });
      expect(e.isError).toBe(true);
    } finally {
      await client.close();
    }
  });
});
