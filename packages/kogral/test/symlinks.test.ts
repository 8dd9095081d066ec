import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { localFiles } from '../src/adapters/local-files.js';
import { SqliteIndex } from '../src/adapters/sqlite-index.js';
import { Kogral } from '../src/core/kogral.js';
import { SearchEngine } from '../src/core/search/engine.js';
import { Store } from '../src/core/store.js';

function graphWithEscape() {
  const root = mkdtempSync(join(tmpdir(), 'kogral-sym-'));
  const dir = join(root, '.kogral');
  mkdirSync(join(dir, 'notes'), { recursive: true });
  mkdirSync(join(root, 'outside'));
  const secret = join(root, 'outside', 'secret.md');
  writeFileSync(secret, '---\nid: secret\ntype: note\ntitle: Secret\n---\n\nplatypusword hunter2\n');
  symlinkSync(secret, join(dir, 'notes', 'secret.md'));
  writeFileSync(
    join(dir, 'notes', 'inside.md'),
    '---\nid: inside\ntype: note\ntitle: Inside\n---\n\nplatypusword is fine here\n',
  );
  symlinkSync(join(dir, 'notes', 'inside.md'), join(dir, 'notes', 'alias.md')); // inside the folder: fine
  return { root, dir };
}

describe('symlinks that leave the graph folder', { timeout: 120_000 }, () => {
  it('are refused (reported, never served) unless configured', async () => {
    const { dir } = graphWithEscape();
    const store = new Store(dir, { files: localFiles });
    const { nodes, problems } = store.loadAll();
    expect(nodes.map((n) => n.node.id)).toEqual(['inside']); // alias.md (a symlink inside) has the same id: a duplicate
    expect(problems.map((p) => p.message).join('\n')).toMatch(/symlink to .*outside the graph folder: not read/);
    expect(() => new Kogral(store).get('secret')).toThrow(/cannot be read|no node/);
    const index = new SqliteIndex(store);
    index.refresh();
    const hits = (await new SearchEngine(index).search('platypusword', { semantic: false })).hits;
    // alias.md and inside.md share one id: search shows the first by path, as list and show do.
    expect(hits.map((h) => [h.id, h.path])).toEqual([['inside', join(dir, 'notes', 'alias.md')]]);
    expect(store.loadAll().nodes.map((n) => n.path)).toEqual([join(dir, 'notes', 'alias.md')]);
    index.close();

    const open = new Store(dir, { files: localFiles, followSymlinks: true });
    expect(
      open
        .loadAll()
        .nodes.map((n) => n.node.id)
        .sort(),
    ).toEqual(['inside', 'secret']);
  });

  it('the CLI reports them; symlinks = "follow" in config reads them', async () => {
    const { cwd, env } = sandbox();
    const kg = (args: string[]) => runBin('kogral', args, { cwd, env, timeoutMs: 30_000 });
    expect((await kg(['init'])).code).toBe(0);
    mkdirSync(join(cwd, 'elsewhere'));
    writeFileSync(join(cwd, 'elsewhere', 's.md'), '---\nid: s\ntype: note\ntitle: S\n---\n\nnumbatword\n');
    mkdirSync(join(cwd, '.kogral', 'notes'), { recursive: true });
    symlinkSync(join(cwd, 'elsewhere', 's.md'), join(cwd, '.kogral', 'notes', 's.md'));
    const s = await kg(['search', 'numbatword', '--json']);
    expect(JSON.parse(s.stdout).hits).toEqual([]);
    const show = await kg(['show', 's']);
    expect(show.code).not.toBe(0);
    expect(show.stderr).toMatch(/outside the graph folder/);
    const cfg = join(cwd, '.kogral', 'config.toml');
    writeFileSync(cfg, `symlinks = "follow"\n${readFileSync(cfg, 'utf8')}`);
    expect((await kg(['reindex'])).code).toBe(0);
    expect(JSON.parse((await kg(['search', 'numbatword', '--json'])).stdout).hits[0]?.id).toBe('s');
  });
});
