import * as fs from 'node:fs';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StratumError } from '@stratumiops/shared/errors';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { localFiles, withLock } from '../src/adapters/local-files.js';
import { makeId, slugify, splitCamel } from '../src/core/ids.js';
import { Kogral } from '../src/core/kogral.js';
import {
  isProblem,
  parseNode,
  serializeNode,
  splitFrontmatter,
  tryParseNode,
  wikilinks,
} from '../src/core/markdown.js';
import type { KNode } from '../src/core/model.js';
import { Store } from '../src/core/store.js';
import { DEFAULT_TEMPLATES, renderTemplate } from '../src/core/templates.js';
import { checkText, invalidUtf8At } from '../src/core/text-check.js';
import { parseLite } from '../src/core/yaml-lite.js';
import { tempGraph } from './helpers.js';

const node = (over: Partial<KNode> = {}): KNode => ({
  id: 'a-node-123abc',
  type: 'note',
  title: 'A node',
  tags: [],
  aliases: [],
  status: 'active',
  created: '2026-01-22T10:00:00.000Z',
  updated: '2026-01-22T10:00:00.000Z',
  relations: [],
  metadata: {},
  body: '# A node\n',
  ...over,
});

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as StratumError).code;
  }
  return undefined;
};
const codeAsync = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (e) {
    return (e as StratumError).code;
  }
  return undefined;
};

describe('ids', () => {
  it('are readable slugs with a short hash, stable for the same key', () => {
    expect(slugify('Choose Cilium over Calico for CNI!')).toBe('choose-cilium-over-calico-for-cni');
    expect(slugify('Ünïcödé — ⚡')).toBe('unicode');
    expect(slugify('∑∑∑')).toBe('node');
    expect(slugify('a'.repeat(100)).length).toBeLessThanOrEqual(48);
    const id = makeId('Nginx 502 troubleshooting', 'note:nginx 502 troubleshooting');
    expect(id).toMatch(/^nginx-502-troubleshooting-[0-9a-f]{6}$/);
    expect(makeId('Nginx 502 troubleshooting', 'note:nginx 502 troubleshooting')).toBe(id);
    expect(splitCamel('KubeHpaMaxedOut')).toBe('Kube Hpa Maxed Out');
    expect(splitCamel('etcdGRPCRequestsSlow')).toBe('etcd GRPC Requests Slow');
  });
});

describe('frontmatter', () => {
  it('round-trips every field, free metadata included, byte for byte', () => {
    const n = node({
      tags: ['a', 'b c', 'x,y', 'true', '1.5', 'ü'],
      aliases: ['Other name'],
      author: 'Ana: "quoted"',
      source: 'dir/File name.md',
      source_root: 'corpus',
      relations: [
        { type: 'supersedes', target: 'old-1a2b3c', weight: 1 },
        { type: 'depends_on', target: 'Page: with colon', weight: 0.25 },
      ],
      metadata: {
        nested: { a: [1, 2], b: null },
        flag: true,
        n: 3,
        list: ['p', 'q'],
        date: '2020-01-01',
        multi: 'a\nb',
      },
      body: '# Title\n\nText with [[Link]] and ```code```\n',
    });
    const text = serializeNode(n);
    const back = parseNode(text, { path: 'x.md' });
    expect(back).toEqual(n);
    expect(serializeNode(back)).toBe(text);
  });

  it('the fast YAML path reads exactly what the YAML parser reads, or defers to it', () => {
    const values = [
      'plain',
      'with space',
      'a: b',
      'x #y',
      '-dash',
      "it's",
      '2026-01-22T10:00:00Z',
      '007',
      '1e3',
      'null',
      'True',
      '~',
    ];
    values.push(
      '"quoted"',
      '[list]',
      '{map}',
      'back\\slash',
      'tab\there',
      'ünï',
      '',
      ' lead',
      'trail ',
      '50%',
      '@at',
      '*star',
    );
    for (const v of values) {
      const n = node({ title: v || 'x', tags: [v].filter(Boolean), metadata: { k: v } });
      const fm = splitFrontmatter(serializeNode(n)).yaml as string;
      const lite = parseLite(fm);
      const full = YAML.parse(fm);
      if (lite) expect(lite, JSON.stringify(v)).toEqual(full);
      expect(parseNode(serializeNode(n), { path: 'x' }).metadata.k).toBe(v);
    }
  });

  it('reports broken frontmatter with the file line, and unknown types and relations', () => {
    const bad = (text: string) => tryParseNode(text, { path: 'notes/x.md' });
    const notYaml = bad('---\nid: x-1\ntype: note\ntitle: [unclosed\n---\nbody');
    expect(isProblem(notYaml) && notYaml.line).toBe(4);
    const unclosed = bad('---\nid: x\n');
    expect(isProblem(unclosed) && unclosed.message).toMatch(/never closed/);
    const badType = bad('---\nid: x-1\ntitle: T\ntype: wiki\n---\n');
    expect(isProblem(badType) && [badType.line, badType.message]).toEqual([
      4,
      expect.stringMatching(/unknown type 'wiki'/),
    ]);
    const badRel = bad('---\nid: x-1\ntype: note\nrelations:\n  - {type: likes, target: y}\n---\n');
    expect(isProblem(badRel) && badRel.message).toMatch(/unknown relation 'likes'/);
    const toml = bad('+++\ntitle = "x"\n+++\n');
    expect(isProblem(toml) && toml.message).toMatch(/TOML/);
    const list = bad('---\n- a\n- b\n---\n');
    expect(isProblem(list) && list.message).toMatch(/mapping/);
  });

  it('reads hand-written files: id from the file name, type from the folder, title from the heading', () => {
    const n = parseNode('# Hand written\n\nno frontmatter', {
      path: 'p',
      fallbackId: 'hand-written',
      fallbackType: 'pattern',
    });
    expect([n.id, n.type, n.title]).toEqual(['hand-written', 'pattern', 'Hand written']);
  });

  it('finds [[wikilinks]] outside code, with labels, headings and block refs stripped', () => {
    const body =
      'See [[Page One]], [[page-two-1a2b3c|the second]], [[Three#Heading]], ![[diagram.png]], ![[Four]]\n```\n[[Not a link]]\n```\n`[[nor this]]`';
    expect(wikilinks(body)).toEqual(['Page One', 'page-two-1a2b3c', 'Three', 'Four']);
  });
});

describe('templates', () => {
  it('fill fields and drop empty sections; the execution template follows the seed', () => {
    const t = renderTemplate(DEFAULT_TEMPLATES.execution, { title: 'Outage', root_cause: 'leak', resolution: 'fix' });
    expect(t).toContain('## Root Cause\n\nleak');
    expect(t).not.toContain('## Timeline');
    expect(t).not.toContain('{{');
  });

  it('are overridden by .kogral/templates/<type>.md', async () => {
    const g = tempGraph();
    fs.mkdirSync(join(g.dir, 'templates'));
    writeFileSync(join(g.dir, 'templates', 'note.md'), '# {{title}}\n\nCustom: {{body}}\n\n## Empty\n\n{{nothing}}\n');
    const r = await g.kg.add({ type: 'note', title: 'T', fields: { body: 'hello' } });
    expect(r.node.body).toBe('# T\n\nCustom: hello\n');
  });
});

describe('text checks', () => {
  it('refuse binary data, invalid UTF-8 (with the line) and oversized files', () => {
    expect(checkText(Buffer.from('ok ✓'), 100).text).toBe('ok ✓');
    expect(checkText(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]), 100).error?.message).toMatch(/binary/);
    const bad = Buffer.concat([Buffer.from('line1\nline2 '), Buffer.from([0xc3, 0x28])]);
    expect(checkText(bad, 100).error).toEqual({ message: 'invalid UTF-8 at byte 12', line: 2 });
    expect(checkText(Buffer.alloc(101, 'a'), 100).error?.message).toMatch(/over the/);
    expect(invalidUtf8At(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a surrogate
    expect(invalidUtf8At(Buffer.from([0xf0, 0x9f, 0x98, 0x80]))).toBe(-1); // an emoji
  });
});

describe('store', () => {
  it('writes atomically: a failed rename leaves what was there and no temporary file', () => {
    const g = tempGraph();
    const p = join(g.dir, 'f.md');
    writeFileAtomic(p, 'old');
    writeFileAtomic(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    // Renaming over a non-empty folder fails: the folder stays, the temporary file is cleaned up.
    const d = join(g.dir, 'occupied');
    fs.mkdirSync(join(d, 'inner'), { recursive: true });
    expect(() => writeFileAtomic(d, 'x')).toThrow();
    expect(existsSync(join(d, 'inner'))).toBe(true);
    expect(readdirSync(g.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('lists broken files as problems and never writes over them', async () => {
    const g = tempGraph();
    const a = await g.kg.add({ type: 'note', title: 'Good', fields: { body: 'x' } });
    fs.mkdirSync(join(g.dir, 'notes'), { recursive: true });
    const broken = join(g.dir, 'notes', 'broken-1a2b3c.md');
    const text = '---\nid: broken-1a2b3c\ntype: note\ntitle: "unterminated\n---\nhand edited\n';
    writeFileSync(broken, text);
    writeFileSync(join(g.dir, 'notes', 'blob.md'), Buffer.from([0, 1, 2, 3]));
    const { nodes, problems } = g.store.loadAll();
    expect(nodes.map((n) => n.node.id)).toEqual([a.node.id]);
    expect(problems.map((p) => [p.path.split('/').pop(), p.line])).toEqual([
      ['blob.md', undefined],
      ['broken-1a2b3c.md', 4],
    ]);
    expect(await codeAsync(g.kg.link(a.node.id, 'broken-1a2b3c'))).toBe('validation');
    expect(await codeAsync(g.kg.link('broken-1a2b3c', a.node.id))).toBe('validation');
    expect(readFileSync(broken, 'utf8')).toBe(text);
  });

  it('two processes never hold the lock at once; a dead holder is taken over', async () => {
    const g = tempGraph();
    const order: string[] = [];
    const slow = (name: string) =>
      withLock(g.store.lockPath, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 30));
        order.push(`${name}-`);
      });
    await Promise.all([slow('a'), slow('b'), slow('c')]);
    for (let i = 0; i < order.length; i += 2) expect(order[i]?.[0]).toBe(order[i + 1]?.[0]);
    writeFileSync(g.store.lockPath, '999999999 2020-01-01\n'); // no such process
    await withLock(g.store.lockPath, () => order.push('after-stale'));
    expect(order.at(-1)).toBe('after-stale');
    expect(existsSync(g.store.lockPath)).toBe(false);
  });
});

describe('graph operations', () => {
  it('add: template per type, same title twice is a conflict, titles resolve to ids', async () => {
    const { kg } = tempGraph();
    const d = await kg.add({
      type: 'decision',
      title: 'Choose Cilium over Calico for CNI',
      fields: { context: 'Need eBPF', decision: 'Cilium', consequences: 'Kernel 4.9+' },
      tags: ['cni'],
    });
    expect(d.node.status).toBe('proposed');
    expect(d.node.body).toContain('## Context and Problem Statement\n\nNeed eBPF');
    expect(await codeAsync(kg.add({ type: 'decision', title: 'choose cilium over calico for cni' }))).toBe('conflict');
    expect(kg.get('Choose Cilium over Calico for CNI').node.id).toBe(d.node.id);
    expect(kg.get(d.node.id.slice(0, 10)).node.id).toBe(d.node.id);
    expect(code(() => kg.get('nothing like it'))).toBe('notFound');
  });

  it('wikilinks are relates_to with backlinks; supersedes flips status and unlink restores it', async () => {
    const { kg } = tempGraph();
    const old = await kg.add({ type: 'decision', title: 'Use Calico', status: 'accepted' });
    const nw = await kg.add({ type: 'decision', title: 'Use Cilium', status: 'accepted' });
    const note = await kg.add({
      type: 'note',
      title: 'CNI notes',
      fields: { body: 'See [[Use Cilium]] and [[Nowhere]].' },
    });
    const l = await kg.link(nw.node.id, old.node.id, 'supersedes');
    expect(l.also[0]?.node.status).toBe('superseded');
    const g = kg.graph();
    expect(g.byId.get(old.node.id)?.node.metadata.superseded_by).toEqual([nw.node.id]);
    expect(g.backlinks(nw.node.id)).toEqual([
      { from: note.node.id, to: nw.node.id, type: 'relates_to', weight: 1, via: 'wikilink' },
    ]);
    expect(g.dangling().map((e) => e.missing)).toEqual(['Nowhere']);
    const w = await kg.link(note.node.id, old.node.id, 'explains', 0.4);
    expect(w.relation).toEqual({ type: 'explains', target: old.node.id, weight: 0.4 });
    await kg.link(note.node.id, old.node.id, 'explains', 0.9);
    expect(kg.get(note.node.id).node.relations).toEqual([{ type: 'explains', target: old.node.id, weight: 0.9 }]);
    const u = await kg.unlink(nw.node.id, old.node.id);
    expect(u.also[0]?.node.status).toBe('accepted');
    expect(await codeAsync(kg.link(note.node.id, note.node.id))).toBe('usage');
    expect(await codeAsync(kg.link(note.node.id, old.node.id, 'likes'))).toBe('usage');
    expect(await codeAsync(kg.link(note.node.id, 'missing-node'))).toBe('notFound');
    expect(await codeAsync(kg.unlink(note.node.id, nw.node.id))).toBe('notFound'); // a wikilink, not a relation
  });

  it('delete reports dangling links, and with force removes relations and unwraps [[links]]', async () => {
    const { kg } = tempGraph();
    const t = await kg.add({ type: 'pattern', title: 'Sidecar', fields: { body: 'x' } });
    const a = await kg.add({ type: 'note', title: 'A', fields: { body: 'uses [[Sidecar|the sidecar]] here' } });
    const b = await kg.add({ type: 'note', title: 'B', fields: { body: 'y' } });
    await kg.link(b.node.id, t.node.id, 'implements');
    const r = await kg.remove(t.node.id);
    expect(r.dangling.map((d) => [d.from, d.via])).toEqual([
      [a.node.id, 'wikilink'],
      [b.node.id, 'frontmatter'],
    ]);
    expect(kg.get(b.node.id).node.relations).toHaveLength(1);

    const t2 = await kg.add({ type: 'pattern', title: 'Sidecar', fields: { body: 'again' } });
    await kg.link(b.node.id, t2.node.id, 'implements');
    await kg.remove(t2.node.id, true);
    expect(kg.get(b.node.id).node.relations).toEqual([]);
    expect(kg.get(a.node.id).node.body).toContain('uses the sidecar here');
  });

  it('journal: one node per day, entries appended', async () => {
    const { kg } = tempGraph();
    const a = await kg.journal('2026-01-22', 'first', ['ops']);
    const b = await kg.journal('2026-01-22', 'second', ['db']);
    expect(b.node.id).toBe(a.node.id);
    expect(b.node.body).toMatch(/first[\s\S]*second/);
    expect(b.node.tags).toEqual(['ops', 'db']);
    expect(await codeAsync(kg.journal('2026-13-45', 'x'))).toBe('usage');
  });

  it('concurrent writers in one process never lose a node or a relation', async () => {
    const { kg, store } = tempGraph();
    const hub = await kg.add({ type: 'note', title: 'Hub', fields: { body: 'x' } });
    const adds = Array.from({ length: 20 }, (_, i) =>
      kg.add({ type: 'note', title: `N${i}`, fields: { body: `${i}` } }),
    );
    const made = await Promise.all(adds);
    await Promise.all(made.map((m) => kg.link(hub.node.id, m.node.id)));
    expect(store.loadAll().nodes).toHaveLength(21);
    expect(kg.get(hub.node.id).node.relations).toHaveLength(20);
  });

  it('a hand-named file keeps its name when kogral writes it', async () => {
    const { kg, dir } = tempGraph();
    fs.mkdirSync(join(dir, 'notes'));
    const p = join(dir, 'notes', 'My Note.md');
    writeFileSync(p, '# My note\n\ntext\n');
    const other = await kg.add({ type: 'note', title: 'Other', fields: { body: 'x' } });
    await kg.link('my-note', other.node.id);
    expect(readFileSync(p, 'utf8')).toMatch(/^---\nid: my-note\n[\s\S]*# My note/);
    renameSync(p, p); // still there
  });
});

describe('Store', () => {
  it('skips temporary files of interrupted writes', () => {
    const g = tempGraph();
    fs.mkdirSync(join(g.dir, 'notes'));
    writeFileSync(join(g.dir, 'notes', '.x.md.123.abcd.tmp'), 'partial');
    expect(new Store(g.dir, { files: localFiles }).listPaths()).toEqual([]);
    expect(new Kogral(g.store).graph().size).toBe(0);
  });
});
