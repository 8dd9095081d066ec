import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';

function graph() {
  const { cwd, env } = sandbox();
  const kg = (args: string[], extra: NodeJS.ProcessEnv = {}, dir = cwd) =>
    runBin('kogral', args, { cwd: dir, env: { ...env, ...extra }, timeoutMs: 30_000 });
  const json = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const r = await kg([...args, '--json'], extra);
    if (r.code !== 0) throw new Error(`kogral ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return { cwd, env, kg, json };
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });

describe('kogral CLI', { timeout: 120_000 }, () => {
  it('init, add each type, list, show, search, with the documented exit codes', async () => {
    const { cwd, kg, json } = graph();
    expect((await kg(['list'])).code).toBe(4); // no graph yet
    expect((await kg(['list'])).stderr).toMatch(/no kogral graph here .*kogral init/);
    const init = await json(['init']);
    expect(existsSync(join(cwd, '.kogral', 'config.toml'))).toBe(true);
    expect(init.name).toBeTruthy();
    expect((await kg(['init'])).code).toBe(6);

    writeFileSync(join(cwd, 'notes.md'), 'Check the upstream pool and `proxy_read_timeout`.\n');
    const note = await json([
      'add',
      'note',
      'Nginx 502 troubleshooting',
      '--tags',
      'nginx,runbook',
      '--body-file',
      'notes.md',
    ]);
    expect(note).toMatchObject({ type: 'note', tags: ['nginx', 'runbook'] });
    expect(note.id).toMatch(/^nginx-502-troubleshooting-[0-9a-f]{6}$/);
    const dec = await json([
      'add',
      'decision',
      'Choose Cilium over Calico for CNI',
      '--context',
      'Need eBPF',
      '--decision',
      'Cilium',
      '--consequences',
      'Kernel 4.9+',
      '--status',
      'accepted',
    ]);
    const exe = await json([
      'add',
      'execution',
      '2026-01-22 PostgreSQL connection pool exhaustion',
      '--root-cause',
      'Connection leak in the app',
      '--resolution',
      'PgBouncer',
      '--action-items',
      'Monitor the pool,Alert at 80%',
      '--tags',
      'database,incident',
      '--started',
      '2026-01-22T10:00:00Z',
      '--resolved',
      '2026-01-22T11:30:00Z',
    ]);
    const body = readFileSync(exe.path, 'utf8');
    expect(body).toMatch(/## Timeline[\s\S]*\*\*Duration\*\*: 1 h 30 min[\s\S]*## Root Cause\n\nConnection leak/);
    expect(body).toContain('- [ ] Alert at 80%');
    await json([
      'add',
      'guideline',
      'Set resource limits',
      '--body',
      'Every container sets limits.',
      '-t',
      'kubernetes',
    ]);
    await json([
      'add',
      'pattern',
      'Sidecar log shipper',
      '--problem',
      'Apps log to files',
      '--solution',
      'A sidecar tails them',
    ]);
    const j1 = await json(['add', 'journal', '2026-01-22', '--body', 'Rotated credentials']);
    const j2 = await json(['add', 'journal', '2026-01-22', '--body', 'Reviewed the postmortem']);
    expect(j2.id).toBe(j1.id);

    // Missing fields: no prompt off a terminal, exit 2 naming the flags.
    const missing = await kg(['add', 'decision', 'Half a decision', '--context', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs --decision and --consequences/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect((await kg(['add', 'note', 'No body'])).stderr).toMatch(/needs --body/);
    expect((await kg(['add', 'wiki', 'x'])).code).toBe(2);
    expect((await kg(['add', 'note', 'Nginx 502 troubleshooting', '--body', 'again'])).code).toBe(6);

    const list = await json(['list', '--type', 'decision', '--status', 'accepted']);
    expect(list.nodes.map((n: { id: string }) => n.id)).toEqual([dec.id]);
    expect((await json(['list', '--tag', 'incident'])).count).toBe(1);
    expect((await json(['list'])).total).toBe(6);

    const shown = await json(['show', 'Nginx 502 troubleshooting']);
    expect(shown).toMatchObject({ id: note.id, tags: ['nginx', 'runbook'], backlinks: [] });
    expect((await kg(['show', note.id, '--raw'])).stdout).toMatch(/^---\nid: nginx-502/);
    expect((await kg(['show', 'nothing'])).code).toBe(4);

    const s = await json(['search', 'postgres connection leak', '--type', 'execution', '--limit', '5']);
    expect(s.hits.map((h: { id: string }) => h.id)).toEqual([exe.id]);
    expect(s.hits[0].snippet).toContain('**leak**');
    const sem = await json(['search', '--semantic', 'database ran out of connections']);
    expect(sem).toMatchObject({ mode: 'hybrid' });
    expect(sem.hits[0].id).toBe(exe.id);
    for (const q of ['cert-manager', 'C++ OR']) expect((await kg(['search', q])).code, q).toBe(0);
    const human = await kg(['search', 'nginx']);
    expect(human.stdout).toMatch(/1\. Nginx 502 troubleshooting/);
  });

  it('link, supersede, unlink, delete with dangling links, graph', async () => {
    const { cwd, kg, json } = graph();
    await json(['init']);
    const old = await json([
      'add',
      'decision',
      'Use Calico',
      '--context',
      'c',
      '--decision',
      'd',
      '--consequences',
      'e',
      '--status',
      'accepted',
    ]);
    const nw = await json([
      'add',
      'decision',
      'Use Cilium',
      '--context',
      'c',
      '--decision',
      'd',
      '--consequences',
      'e',
      '--supersedes',
      old.id,
    ]);
    expect(nw.also).toEqual([{ id: old.id, status: 'superseded', path: expect.any(String) }]);
    const note = await json(['add', 'note', 'CNI notes', '--body', 'See [[Use Cilium]].']);
    const l = await json(['link', note.id, old.id, 'explains', '--weight', '0.5']);
    expect(l).toMatchObject({ relation: 'explains', weight: 0.5, to: old.id });
    expect((await kg(['link', note.id, old.id, 'likes'])).code).toBe(2);
    expect((await kg(['link', note.id, 'nowhere-000000'])).code).toBe(4);
    expect((await kg(['link', note.id, old.id, '--weight', '7'])).code).toBe(2);
    const shown = await json(['show', nw.id]);
    expect(shown.backlinks).toEqual([expect.objectContaining({ from: note.id, via: 'wikilink' })]);
    expect(shown.links).toEqual([expect.objectContaining({ to: old.id, type: 'supersedes' })]);

    const u = await json(['unlink', nw.id, old.id, 'supersedes']);
    expect(u.also).toEqual([{ id: old.id, status: 'accepted' }]);

    const dot = await kg(['graph']);
    expect(dot.stdout).toMatch(/^digraph kogral \{[\s\S]*-> .*explains/);
    const svg = await kg(['graph', '--format', 'svg', '-o', join(cwd, 'g.svg')]);
    if (spawnSync('dot', ['-V']).error) {
      expect(svg.code).toBe(7);
      expect(svg.stderr).toMatch(/graphviz/);
    } else expect(readFileSync(join(cwd, 'g.svg'), 'utf8')).toContain('<svg');

    const del = await kg(['delete', nw.id]);
    expect(del.code).toBe(0);
    expect(del.stderr).toMatch(new RegExp(`dangling in: ${note.id}`));
    const r = await json(['delete', old.id, '--force']);
    expect(r.dangling).toEqual([expect.objectContaining({ from: note.id, type: 'explains', removed: true })]);
    expect((await json(['show', note.id])).relations).toEqual([]);
    expect((await kg(['delete', old.id])).code).toBe(4);
  });

  it('export and import: json, yaml and markdown round trips, dry run, idempotent re-import', async () => {
    const a = graph();
    await a.json(['init']);
    await a.json(['add', 'note', 'One', '--body', 'links to [[Two]]', '-t', 'x']);
    await a.json(['add', 'decision', 'Two', '--context', 'c', '--decision', 'd', '--consequences', 'e']);
    const j = await a.kg(['export', '--format', 'json']);
    const doc = JSON.parse(j.stdout);
    expect(doc).toMatchObject({ kogral: 1, count: 2 });
    writeFileSync(join(a.cwd, 'g.json'), j.stdout);
    expect((await a.kg(['export', '--format', 'yaml', '-o', join(a.cwd, 'g.yaml')])).code).toBe(0);
    expect((await a.kg(['export', '--format', 'markdown', '-o', join(a.cwd, 'md')])).code).toBe(0);
    expect((await a.kg(['export', '--format', 'markdown'])).code).toBe(2);
    writeFileSync(join(a.cwd, 'busy.txt'), 'x');
    mkdirSync(join(a.cwd, 'busy'));
    writeFileSync(join(a.cwd, 'busy', 'README.md'), 'x');
    expect((await a.kg(['export', '--format', 'markdown', '-o', join(a.cwd, 'busy')])).code).toBe(2); // not empty
    const original = (await a.json(['export', '--format', 'json'])).nodes;
    // (yaml round trips are covered on the real corpora in import-export.test.ts)
    for (const src of ['g.json', 'md']) {
      const b = graph();
      await b.json(['init']);
      if (src === 'md') {
        const dry = await b.json(['import', join(a.cwd, src), '--dry-run']);
        expect(dry).toMatchObject({ dry_run: true, created: 2 });
        expect((await b.json(['list'])).total).toBe(0);
      }
      expect(await b.json(['import', join(a.cwd, src)])).toMatchObject({ created: 2 });
      expect(await b.json(['import', join(a.cwd, src)])).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
      expect((await b.json(['export', '--format', 'json'])).nodes, src).toEqual(original);
    }
  });

  it('imports a folder, records the source, and finds imported nodes by it', async () => {
    const { cwd, kg, json } = graph();
    await json(['init']);
    mkdirSync(join(cwd, 'pm'));
    writeFileSync(join(cwd, 'pm', 'PM2020-001 - Inotify exhaustion.md'), '# Inotify\n\nFile watches ran out.\n');
    writeFileSync(join(cwd, 'pm', 'broken.md'), '---\nkey: [\n---\n');
    const r = await kg(['import', 'pm', '--from', 'markdown', '--type', 'execution']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped broken\.md:2: frontmatter is not valid YAML/);
    const s = await json(['search', 'inotify']);
    expect(s.hits[0]).toMatchObject({
      type: 'execution',
      source: 'PM2020-001 - Inotify exhaustion.md',
      source_root: 'pm',
    });
    expect((await json(['show', s.hits[0].id])).source).toBe('PM2020-001 - Inotify exhaustion.md');
  });

  it('reindex, a deleted index, hand-broken files reported with path:line and never overwritten', async () => {
    const { cwd, kg, json } = graph();
    await json(['init']);
    const n = await json(['add', 'note', 'Kafka lag', '--body', 'consumer lag grows']);
    rmSync(join(cwd, '.kogral', 'index.db'), { force: true });
    expect((await json(['search', 'lag'])).hits[0].id).toBe(n.id);
    const broken = '---\nid: hand-1\ntype: note\ntitle: [oops\n---\nkeep me\n';
    writeFileSync(join(cwd, '.kogral', 'notes', 'hand-1.md'), broken);
    const re = await kg(['reindex', '--json']);
    expect(re.code).toBe(0);
    expect(JSON.parse(re.stdout)).toMatchObject({ indexed: 1, files: 2 });
    expect(re.stderr).toMatch(/notes\/hand-1\.md:4: frontmatter is not valid YAML/);
    expect((await kg(['list'])).stderr).toMatch(/hand-1\.md:4/);
    const link = await kg(['link', n.id, 'hand-1']);
    expect(link.code).toBe(3);
    expect(readFileSync(join(cwd, '.kogral', 'notes', 'hand-1.md'), 'utf8')).toBe(broken);
    expect(await json(['reindex', '--incremental', '--vectors'])).toMatchObject({
      unchanged: 2,
      vectors: { model: 'ngram-v2', vectors: 1 },
    });
  });

  it('git: one commit per write naming the node, history, unrelated files untouched', async () => {
    const { cwd, json } = graph();
    git(cwd, 'init', '-q');
    writeFileSync(join(cwd, 'app.txt'), 'v1\n');
    git(cwd, 'add', 'app.txt');
    git(cwd, 'commit', '-qm', 'app');
    writeFileSync(join(cwd, 'app.txt'), 'v2 staged\n');
    git(cwd, 'add', 'app.txt');
    writeFileSync(join(cwd, 'untracked.txt'), 'x\n');
    await json(['init', '--git']);
    const a = await json(['add', 'note', 'Runbook', '--body', 'v1']);
    const b = await json(['add', 'note', 'Other', '--body', 'x']);
    await json(['link', a.id, b.id, 'depends_on']);
    const h = await json(['history', a.id]);
    expect(h.versions.map((v: { message: string }) => v.message)).toEqual([
      `kogral: link ${a.id} -[depends_on]-> ${b.id}`,
      `kogral: add note 'Runbook' (${a.id})`,
    ]);
    const d = await json(['history', a.id, '--diff', '--limit', '1']);
    expect(d.versions[0].diff).toMatch(/\+relations:/);
    expect(git(cwd, 'status', '--porcelain')).toMatch(/^M {2}app\.txt\n[\s\S]*\?\? untracked\.txt/m);
    expect(git(cwd, 'show', '--stat', '--format=', 'HEAD')).not.toMatch(/app\.txt/);
    await json(['delete', b.id]);
    expect((await json(['history', b.id])).versions[0].message).toMatch(/^kogral: delete note 'Other'/);
    expect(git(cwd, 'log', '--format=%s', '-1')).toMatch(/delete/);
    const noRepo = graph();
    await noRepo.json(['init']);
    const x = await noRepo.json(['add', 'note', 'X', '--body', 'x']);
    expect((await noRepo.kg(['history', x.id])).stderr).toMatch(/not in a git repository/);
    const cfg = await json(['config']);
    expect(cfg.settings.find((x: { key: string }) => x.key === 'git.auto_commit')).toMatchObject({ value: true });
  });

  it('guidelines: the org graph (folder or git URL) under the project, the project wins on the same id', async () => {
    const org = graph();
    await org.json(['init', '--name', 'acme']);
    const shared = await org.json(['add', 'guideline', 'Kubernetes deployment limits', '--body', 'Org: set limits.']);
    await org.json([
      'add',
      'guideline',
      'Kubernetes probes',
      '--body',
      'Org: define readiness probes for deployments.',
    ]);
    await org.json(['add', 'guideline', 'Terraform state', '--body', 'Remote state only.']);
    const p = graph();
    await p.json(['init', '--org', join(org.cwd, '.kogral')]);
    mkdirSync(join(p.cwd, '.kogral', 'guidelines'), { recursive: true });
    const own = readFileSync(join(org.cwd, '.kogral', 'guidelines', `${shared.id}.md`), 'utf8').replace(
      'Org: set limits.',
      'Project: set limits and requests.',
    );
    writeFileSync(join(p.cwd, '.kogral', 'guidelines', `${shared.id}.md`), own);
    const g = await p.json(['guidelines', 'kubernetes deployment']);
    expect(g.guidelines.map((x: { id: string; graph: string }) => [x.id, x.graph])).toEqual(
      expect.arrayContaining([[shared.id, 'project']]),
    );
    expect(g.guidelines.find((x: { id: string }) => x.id === shared.id)).toMatchObject({
      overrides: 'org',
      summary: expect.stringMatching(/^Project/),
    });
    expect(g.guidelines.map((x: { graph: string }) => x.graph)).toContain('org');
    expect(g.guidelines.map((x: { title: string }) => x.title)).not.toContain('Terraform state');
    expect((await p.json(['guidelines', 'kubernetes', '--project-only'])).guidelines).toHaveLength(1);

    // The org graph as a git URL: cloned into the cache.
    git(org.cwd, 'init', '-q');
    git(org.cwd, 'add', '.kogral');
    git(org.cwd, 'commit', '-qm', 'org graph');
    const viaGit = graph();
    await viaGit.json(['init', '--org', `file://${org.cwd}`]);
    const gg = await viaGit.json(['guidelines', 'terraform']);
    expect(gg.guidelines).toEqual([expect.objectContaining({ title: 'Terraform state', graph: 'org' })]);
    expect(gg.org.url).toBe(`file://${org.cwd}`);
    const bad = graph();
    await bad.json(['init', '--org', 'file:///nonexistent/repo.git']);
    expect((await bad.kg(['guidelines'])).code).toBe(7);
  });

  it('KOGRAL_DIR points at a graph elsewhere and its config applies', async () => {
    const a = graph();
    await a.json(['init', '--name', 'elsewhere']);
    await a.json(['add', 'note', 'Remote note', '--body', 'x']);
    const other = sandbox();
    const r = await runBin('kogral', ['list', '--json'], {
      cwd: other.cwd,
      env: { ...other.env, KOGRAL_DIR: join(a.cwd, '.kogral') },
    });
    expect(JSON.parse(r.stdout).total).toBe(1);
    const c = await runBin('kogral', ['config', '--json'], {
      cwd: other.cwd,
      env: { ...other.env, KOGRAL_DIR: a.cwd },
    });
    const name = JSON.parse(c.stdout).settings.find((x: { key: string }) => x.key === 'name');
    expect(name).toMatchObject({ value: 'elsewhere', source: expect.stringMatching(/^project .*config\.toml$/) });
  });
});
