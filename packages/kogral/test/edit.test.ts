import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyEdit, headings, renameWikilinks } from '../src/core/edit.js';
import { tempGraph } from './helpers.js';

const body = '# Incident\n\nIntro.\n\n## Root Cause\n\nUnknown.\n\n### Detail\n\nx\n\n## Resolution\n\nRestarted.\n';

describe('editing a body', () => {
  it('appends and prepends (after the title heading)', () => {
    expect(applyEdit(body, { op: 'append', text: 'Follow-up.' })).toBe(`${body.trimEnd()}\n\nFollow-up.\n`);
    expect(applyEdit(body, { op: 'prepend', text: '> Status: open' })).toMatch(
      /^# Incident\n\n> Status: open\n\nIntro\./,
    );
    expect(applyEdit('plain', { op: 'prepend', text: 'first' })).toBe('first\n\nplain\n');
    expect(() => applyEdit(body, { op: 'append', text: '  \n ' })).toThrow(/empty/);
  });

  it('replaces exact text only as often as expected', () => {
    expect(applyEdit(body, { op: 'find_replace', find: 'Restarted.', replace: 'Rolled back.' })).toContain(
      'Rolled back.',
    );
    expect(() => applyEdit(body, { op: 'find_replace', find: 'nope', replace: 'x' })).toThrow(/is not in the node/);
    expect(() => applyEdit('a a a', { op: 'find_replace', find: 'a', replace: 'b' })).toThrow(/occurs 3 times, not 1/);
    expect(applyEdit('a a a', { op: 'find_replace', find: 'a', replace: 'b', expected: 3 })).toBe('b b b');
    expect(() => applyEdit(body, { op: 'find_replace', find: '', replace: 'x' })).toThrow(/empty/);
  });

  it('replaces a section with its subsections, by name in any case, outside code fences', () => {
    const out = applyEdit(body, { op: 'replace_section', section: 'root cause', text: 'A leaked pool.' });
    expect(out).toBe('# Incident\n\nIntro.\n\n## Root Cause\n\nA leaked pool.\n\n## Resolution\n\nRestarted.\n');
    expect(applyEdit(body, { op: 'replace_section', section: '## Resolution', text: 'Fixed.' })).toMatch(
      /## Resolution\n\nFixed\.\n$/,
    );
    // Content that repeats the heading replaces the heading line as well (no duplicate heading).
    const again = applyEdit(body, { op: 'replace_section', section: 'Resolution', text: '## Resolution\n\nFixed.' });
    expect(again).toMatch(/### Detail\n\nx\n\n## Resolution\n\nFixed\.\n$/);
    expect(() => applyEdit(body, { op: 'replace_section', section: 'Timeline', text: 'x' })).toThrow(
      /no section 'Timeline'/,
    );
    const fenced = '# T\n\n```sh\n# not a heading\n```\n\n## A\n\none\n\n## A\n\ntwo\n';
    expect(headings(fenced).map((h) => h.text)).toEqual(['T', 'A', 'A']);
    expect(() => applyEdit(fenced, { op: 'replace_section', section: 'A', text: 'x' })).toThrow(/2 sections/);
  });

  it('renames wikilinks, keeping anchors and labels', () => {
    const r = renameWikilinks(
      'See [[Old Title]], [[old title#Fix|the fix]], ![[Old Title]] and [[Other]].',
      'Old Title',
      'New',
    );
    expect(r.body).toBe('See [[New]], [[New#Fix|the fix]], ![[New]] and [[Other]].');
    expect(r.count).toBe(3);
  });
});

describe('Kogral.edit / move / remove', () => {
  it('edits under the lock; a failed edit changes nothing', async () => {
    const { kg } = tempGraph();
    const { node, path } = await kg.add({ type: 'note', title: 'Nginx 502', fields: { body: 'Check upstreams.' } });
    const before = readFileSync(path, 'utf8');
    await expect(kg.edit(node.id, { op: 'find_replace', find: 'missing', replace: 'x' })).rejects.toThrow(/not in/);
    await expect(kg.edit(node.id, { op: 'replace_section', section: 'Nope', text: 'x' })).rejects.toThrow(/no section/);
    await expect(kg.edit('no-such-node', { op: 'append', text: 'x' })).rejects.toThrow(/no node/);
    expect(readFileSync(path, 'utf8')).toBe(before);
    const r = await kg.edit(node.id, { op: 'append', text: 'Also keepalive.' });
    expect(r.changed).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('Check upstreams.\n\nAlso keepalive.\n');
    // Optimistic concurrency: a stale updated time is refused.
    await expect(
      kg.edit(node.id, { op: 'append', text: 'late' }, { ifUpdated: '2000-01-01T00:00:00.000Z' }),
    ).rejects.toThrow(/changed since/);
    await kg.edit(node.id, { op: 'append', text: 'ok' }, { ifUpdated: r.node.updated });
  });

  it('refuses an edit that would make the node bigger than the limit', async () => {
    const { kg, store } = tempGraph();
    const { node, path } = await kg.add({ type: 'note', title: 'Small', fields: { body: 'x' } });
    const before = readFileSync(path, 'utf8');
    await expect(kg.edit(node.id, { op: 'append', text: 'y'.repeat(store.maxBytes) })).rejects.toThrow(/over the/);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('concurrent edits of one node all land', async () => {
    const { kg } = tempGraph();
    const { node, path } = await kg.add({ type: 'note', title: 'Busy', fields: { body: 'start' } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => kg.edit(node.id, { op: 'append', text: `line ${i}` })));
    const text = readFileSync(path, 'utf8');
    for (let i = 0; i < 20; i++) expect(text).toContain(`line ${i}\n`);
  });

  it('renames a node, rewrites the links that named it, moves it to another type', async () => {
    const { kg, store } = tempGraph();
    const target = await kg.add({ type: 'note', title: 'PG pool', fields: { body: 'Pool.' } });
    const a = await kg.add({ type: 'note', title: 'A', fields: { body: 'See [[PG pool]] and [[pg pool#Fix|fix]].' } });
    const b = await kg.add({ type: 'note', title: 'B', fields: { body: `By id: [[${target.node.id}]].` } });
    const c = await kg.add({
      type: 'note',
      title: 'C',
      fields: { body: 'no link in the body' },
      relations: [{ type: 'depends_on', target: 'PG pool', weight: 1 }],
    });
    const r = await kg.move(target.node.id, { title: 'PostgreSQL pool exhaustion' });
    expect(r.node.id).toBe(target.node.id);
    expect(readFileSync(r.path, 'utf8')).toContain('# PostgreSQL pool exhaustion');
    expect(readFileSync(a.path, 'utf8')).toContain(
      'See [[PostgreSQL pool exhaustion]] and [[PostgreSQL pool exhaustion#Fix|fix]].',
    );
    expect(readFileSync(b.path, 'utf8')).toContain(`[[${target.node.id}]]`);
    expect(r.relinked.map((x) => x.id).sort()).toEqual([a.node.id].sort());
    const g = kg.graph();
    expect(
      g
        .backlinks(target.node.id)
        .map((e) => e.from)
        .sort(),
    ).toEqual([a.node.id, b.node.id, c.node.id].sort());
    expect(g.dangling()).toEqual([]);

    const m = await kg.move(target.node.id, { type: 'execution' });
    expect(m.path).toBe(store.fileFor('execution', target.node.id));
    expect(store.exists(r.path)).toBe(false);
    expect(kg.graph().backlinks(target.node.id)).toHaveLength(3);

    await expect(kg.move(a.node.id, { title: 'B' })).rejects.toThrow(/already called 'B'/);
    await expect(kg.move(a.node.id, {})).rejects.toThrow(/nothing to move/);
    await expect(kg.move(a.node.id, { title: '  ' })).rejects.toThrow(/empty/);
    await expect(kg.move(a.node.id, { type: 'bogus' as never })).rejects.toThrow(/unknown type/);
    expect(readFileSync(a.path, 'utf8')).toContain('title: A');
  });
});
