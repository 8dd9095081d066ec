import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFiles } from '../src/adapters/local-files.js';
import type { SqliteIndex } from '../src/adapters/sqlite-index.js';
import { selectNodes, toJson, toMarkdownFolder, toYaml } from '../src/core/exporters.js';
import { applyImport, planImport, summarize } from '../src/core/importers/plan.js';
import { serializeNode } from '../src/core/markdown.js';
import { SearchEngine } from '../src/core/search/engine.js';
import { CORPORA, corporaDir, corpusGraph, haveCorpora, tempGraph } from './helpers.js';

const run = haveCorpora();

function folder(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'kogral-src-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

/** Every node file of a graph, by relative path: what "the same graph" means. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of readdirSync(dir, { withFileTypes: true })) {
    if (!t.isDirectory() || t.name === 'templates') continue;
    for (const f of readdirSync(join(dir, t.name))) out[`${t.name}/${f}`] = readFileSync(join(dir, t.name, f), 'utf8');
  }
  return out;
}

describe.skipIf(!run)('importing the real corpora', { timeout: 120_000 }, () => {
  let g: Awaited<ReturnType<typeof corpusGraph>>;
  beforeAll(async () => {
    g = await corpusGraph();
  });
  afterAll(() => (g?.index as SqliteIndex | undefined)?.close());

  const bySource = (root: string, source: string) =>
    g.kg.graph().nodes.find((s) => s.node.source_root === root && s.node.source === source)?.node;

  it('keeps each corpus quirk: odd names, Hugo front matter, ADR status styles, Logseq pages', () => {
    const graph = g.kg.graph();
    expect(graph.problems).toEqual([]);
    const count = (root: string) => graph.nodes.filter((s) => s.node.source_root === root).length;
    expect(count('dfds-postmortems')).toBe(41);
    expect(count('prometheus-operator-runbooks')).toBe(118);
    expect(count('logseq-docs')).toBe(313);

    const noExt = bySource('dfds-postmortems', 'PM2022-009 - Bad AWS EKS AMI causing Kubernetes issues');
    expect(noExt).toMatchObject({ type: 'execution', title: 'Bad AWS EKS AMI' });
    expect(bySource('dfds-postmortems', 'PM2022-002 -  Logs not shipped to CloudWatch.md')?.title).toMatch(
      /CloudWatch/,
    );
    expect(bySource('prometheus-operator-runbooks', 'content/runbooks/node/NodeRAIDDegraded.md')).toMatchObject({
      title: 'Node RAID Degraded',
      metadata: { weight: 20 },
    });
    const slug = bySource('log4brains-adr', 'docs/adr/20201016-use-the-adr-slug-as-its-unique-id.md');
    const num = bySource('log4brains-adr', 'docs/adr/20200926-use-the-adr-number-as-its-unique-id.md');
    expect(num?.status).toBe('superseded');
    expect(slug?.relations).toContainEqual({ type: 'supersedes', target: num?.id, weight: 1 });
    expect(slug?.created).toBe('2020-10-16T00:00:00.000Z');
    const odh = bySource('opendatahub-adr', 'architecture-decision-records/ODH-ADR-0003-use-apache-2-0-licence.md');
    expect(odh).toMatchObject({ type: 'decision', status: 'accepted', metadata: { adr_id: 'ODH-ADR-0003' } });
    const madr = bySource('madr', 'docs/decisions/0013-use-yaml-front-matter-for-meta-data.md');
    expect(madr).toMatchObject({ type: 'decision', metadata: { adr_number: '0013', parent: 'Decisions' } });
    expect(bySource('madr', 'template/adr-template.md')?.type).toBe('note');

    const ns = bySource('logseq-docs', 'pages/Whiteboard___Action Bar___Arrow head toggle.md');
    expect(ns).toMatchObject({ title: 'Whiteboard/Action Bar/Arrow head toggle', aliases: ['Arrow head toggle'] });
    expect(ns?.metadata.properties).toMatchObject({ type: '[[Tool]]' });
    expect(bySource('logseq-docs', 'pages/New to Logseq%3F.md')?.title).toBe('New to Logseq?');
    const props = bySource('logseq-docs', 'pages/Built-in Properties.md');
    const tables = bySource('logseq-docs', 'pages/Tables.md');
    expect(props?.relations).toContainEqual({ type: 'relates_to', target: tables?.id, weight: 0.5 }); // ((uuid))
    expect(props?.body).toContain('((646c1b4d-9cf2-4c8c-bb05-7f336e027ea1))');
    expect(bySource('logseq-docs', 'journals/2021_03_15.md')).toMatchObject({ type: 'journal', title: '2021-03-15' });
    expect(bySource('logseq-docs', 'pages/Refactoring_of_logseq.md')?.title).toBe('The Refactoring Of Logseq');
  });

  it('indexes the 309 KB file with base64 images without the image data', async () => {
    const e = new SearchEngine(g.index);
    const node = bySource('opendatahub-adr', 'architecture-decision-records/eval-hub/ODH-ADR-EH-0003-OCI-artifact.md');
    expect(node?.body).toContain('data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAABHgAAANpCAYAAABw'); // kept in the file
    const db = new Database(join(g.dir, 'index.db'), { readonly: true });
    const inIndex = db.prepare("SELECT count(*) AS n FROM fts WHERE body LIKE '%base64,iVBORw0KGgo%'").get();
    db.close();
    expect(inIndex).toEqual({ n: 0 }); // not in the index
    expect((await e.search('OCI artifact', { limit: 3 })).hits.map((h) => h.id)).toContain(node?.id);
    expect(g.index.count()).toBe(g.kg.graph().size);
  });

  it('re-import changes nothing and creates no duplicates', () => {
    for (const c of CORPORA) {
      const plan = planImport(g.kg, join(corporaDir, c.dir), { from: c.from, ...(c.type ? { type: c.type } : {}) });
      expect(summarize(plan), c.dir).toMatchObject({ created: 0, updated: 0 });
    }
  });

  it('import → export → import gives the same graph (json, yaml and markdown)', async () => {
    const nodes = selectNodes(g.kg.graph());
    const original = files(g.dir);
    const json = join(mkdtempSync(join(tmpdir(), 'kogral-exp-')), 'graph.json');
    writeFileSync(json, toJson('corpora', nodes));
    const yaml = join(mkdtempSync(join(tmpdir(), 'kogral-exp-')), 'graph.yaml');
    writeFileSync(yaml, toYaml('corpora', nodes));
    const md = mkdtempSync(join(tmpdir(), 'kogral-exp-'));
    toMarkdownFolder(localFiles, md, nodes);
    for (const [from, path] of [
      ['json', json],
      ['yaml', yaml],
      ['markdown', md],
    ] as const) {
      const b = tempGraph();
      const plan = planImport(b.kg, path, { from });
      expect(plan.skipped, from).toEqual([]);
      await applyImport(b.kg, plan);
      expect(files(b.dir), from).toEqual(original);
      expect(summarize(planImport(b.kg, path, { from })), from).toMatchObject({ created: 0, updated: 0 });
    }
  });
});

describe('import formats and bad input', () => {
  it('adr-tools: numbered ADRs, "Superceded" and "Supercedes" in both spellings, Date lines', async () => {
    const root = folder({
      '0001-record-architecture-decisions.md':
        '# 1. Record architecture decisions\n\nDate: 2020-01-01\n\n## Status\n\nAccepted\n\n## Context\n\nx\n',
      '0002-use-postgres.md':
        '# 2. Use Postgres\n\nDate: 2020-02-01\n\n## Status\n\nSuperceded by [3. Use CockroachDB](0003-use-cockroachdb.md)\n\n## Context\n\ny\n',
      '0003-use-cockroachdb.md':
        '# 3. Use CockroachDB\n\nDate: 2020-03-01\n\n## Status\n\nAccepted\n\nSupercedes [2. Use Postgres](0002-use-postgres.md)\n\n## Context\n\nz\n',
      'README.md': '# ADRs\n\nIndex.\n',
    });
    const g = tempGraph();
    const plan = planImport(g.kg, root);
    expect(plan.format).toBe('adr');
    await applyImport(g.kg, plan);
    const by = (t: string) => g.kg.get(t).node;
    expect(by('Use Postgres')).toMatchObject({ status: 'superseded', created: '2020-02-01T00:00:00.000Z' });
    expect(by('Use CockroachDB').relations).toEqual([{ type: 'supersedes', target: by('Use Postgres').id, weight: 1 }]);
    expect(by('Record architecture decisions')).toMatchObject({ type: 'decision', status: 'accepted' });
    expect(by('ADRs').type).toBe('note');
  });

  it('obsidian: front matter, aliases, #tags, [[links|labels]]; a dry run writes nothing', async () => {
    const root = folder({
      '.obsidian/app.json': '{}',
      'Kubernetes.md':
        '---\naliases: [k8s]\ntags: [platform]\n---\n# Kubernetes\n\nSee [[Cilium|our CNI]] and #networking.\n',
      'Network/Cilium.md': '# Cilium\n\neBPF. Back to [[Kubernetes#Intro]]. #cni/ebpf\n',
      'img.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]),
    });
    const g = tempGraph();
    const plan = planImport(g.kg, root);
    expect(plan.format).toBe('obsidian');
    expect(plan.ignored).toEqual(['.obsidian/app.json', 'img.png'].filter((f) => !f.startsWith('.obsidian')));
    expect(g.kg.graph().size).toBe(0);
    await applyImport(g.kg, plan);
    const graph = g.kg.graph();
    const k = g.kg.get('k8s', graph);
    expect(k.node).toMatchObject({ title: 'Kubernetes', tags: ['platform', 'networking'], source: 'Kubernetes.md' });
    const c = g.kg.get('Cilium', graph);
    expect(c.node.tags).toEqual(['cni/ebpf']);
    expect(graph.outgoing(k.node).map((e) => e.to)).toEqual([c.node.id]);
    expect(graph.backlinks(k.node.id).map((e) => e.from)).toEqual([c.node.id]);
  });

  it('skips binary, invalid UTF-8, huge, non-YAML and TOML files with their paths, and imports the rest', async () => {
    const root = folder({
      'good.md': '# Good\n\nfine\n',
      'binary.md': Buffer.from([0x23, 0x20, 0x41, 0x00, 0x01]),
      'latin1.md': Buffer.concat([Buffer.from('# Caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
      'huge.md': `# Huge\n\n${'x'.repeat(2048)}`,
      'bad-yaml.md': '---\ntitle: [oops\n---\n# Bad\n',
      'hugo-toml.md': '+++\ntitle = "x"\n+++\n# T\n',
      noext: '# Without extension\n\nimported\n',
      LICENSE: 'MIT License\n\nnot markdown\n',
    });
    const g = tempGraph();
    const plan = planImport(g.kg, root, { from: 'markdown', maxBytes: 1024 });
    await applyImport(g.kg, plan);
    expect(plan.nodes.map((n) => n.node.source).sort()).toEqual(['good.md', 'noext']);
    const why = Object.fromEntries(plan.skipped.map((s) => [s.source, `${s.line ?? ''}:${s.reason}`]));
    expect(why['binary.md']).toMatch(/binary/);
    expect(why['latin1.md']).toMatch(/^1:invalid UTF-8/);
    expect(why['huge.md']).toMatch(/over the 1024-byte limit/);
    expect(why['bad-yaml.md']).toMatch(/^2:frontmatter is not valid YAML/);
    expect(why['hugo-toml.md']).toMatch(/TOML/);
    expect(plan.ignored).toEqual(['LICENSE']);
    expect(readFileSync(join(root, 'latin1.md'))).toHaveLength(7); // the source is never touched
  });

  it('a JSON export with an unknown type or relation skips that node and says which', async () => {
    const g = tempGraph();
    const node = (id: string, type: string, rel = 'relates_to') => ({
      id,
      type,
      title: id,
      created: '2026-01-01T00:00:00.000Z',
      relations: [{ type: rel, target: 'x' }],
    });
    const p = join(mkdtempSync(join(tmpdir(), 'kogral-')), 'e.json');
    writeFileSync(
      p,
      JSON.stringify({ nodes: [node('ok-1', 'note'), node('bad-1', 'wiki'), node('bad-2', 'note', 'likes')] }),
    );
    const plan = planImport(g.kg, p);
    expect(plan.nodes.map((n) => n.node.id)).toEqual(['ok-1']);
    expect(plan.skipped).toEqual([
      { source: 'e.json#nodes[1]', reason: expect.stringMatching(/unknown type 'wiki'/) },
      { source: 'e.json#nodes[2]', reason: expect.stringMatching(/unknown relation 'likes'/) },
    ]);
    writeFileSync(p, '{"nodes": [');
    expect(planImport(g.kg, p).skipped[0]?.reason).toMatch(/not valid JSON/);
    const n = plan.nodes[0]?.node;
    expect(n && serializeNode(n)).toContain('id: ok-1');
  });
});
