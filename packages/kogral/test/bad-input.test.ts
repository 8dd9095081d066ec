import { appendFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { mcpClient } from './helpers.js';

async function setup(config = '') {
  const { cwd, env } = sandbox();
  const kg = (args: string[]) => runBin('kogral', args, { cwd, env, timeoutMs: 30_000 });
  expect((await kg(['init'])).code).toBe(0);
  if (config) appendFileSync(join(cwd, '.kogral', 'config.toml'), config);
  const mcp = () => mcpClient(cwd, env);
  return { cwd, kg, mcp };
}

const notes = (cwd: string) => {
  try {
    return readdirSync(join(cwd, '.kogral', 'notes')).filter((f) => !f.startsWith('.'));
  } catch {
    return [];
  }
};

describe('kogral under bad input', { timeout: 120_000 }, () => {
  it('one size limit, checked before writing: what kogral writes, list reads', async () => {
    const { cwd, kg, mcp } = await setup('\n[import]\nmax_bytes = 4096\n');
    const body = join(cwd, 'body.md');
    // The body alone fits; with its frontmatter and title the node does not.
    writeFileSync(body, 'x'.repeat(4000));
    const near = await kg(['add', 'note', 'Near the limit', '--body-file', body]);
    expect(near.code).toBe(3);
    expect(near.stderr).toMatch(/the node would be .* over the .* limit: nothing written/);
    const zero = await kg(['add', 'note', 'Zero', '--body-file', '/dev/zero']);
    expect(zero.code).toBe(3);
    const inline = await kg(['add', 'note', 'Inline', '--body', 'y'.repeat(5000)]);
    expect(inline.code).toBe(3);
    expect(notes(cwd)).toEqual([]);

    const client = await mcp();
    const r = (await client.callTool({
      name: 'add_note',
      arguments: { title: 'Over MCP', content: 'z'.repeat(5000) },
    })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect((r.content[0] as { text: string }).text).toMatch(/over the .* limit: nothing written/);
    const small = (await client.callTool({
      name: 'add_note',
      arguments: { title: 'Small', content: 'fits' },
    })) as CallToolResult;
    expect(small.isError).toBeFalsy();
    const id = (small.structuredContent as { id: string }).id;
    const grow = (await client.callTool({
      name: 'edit_node',
      arguments: { id, operation: 'append', content: 'w'.repeat(4000) },
    })) as CallToolResult;
    expect(grow.isError).toBe(true);
    await client.close();

    const list = await kg(['list', '--json']);
    expect(list.stderr).toBe('');
    expect((JSON.parse(list.stdout) as { nodes: { id: string }[] }).nodes.map((n) => n.id)).toEqual([id]);
  });

  it('two files with one id: the first by path everywhere, the other reported by list, show, search and MCP', async () => {
    const { cwd, kg, mcp } = await setup();
    const dir = join(cwd, '.kogral', 'notes');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.md'), '---\nid: same\ntype: note\ntitle: First copy\n---\n\nalpha words\n');
    writeFileSync(join(dir, 'b.md'), '---\nid: same\ntype: note\ntitle: Second copy\n---\n\nbeta words\n');
    const dup = /b\.md: duplicate id 'same' \(also in .*a\.md\)/;

    const list = await kg(['list', '--json']);
    expect(list.stderr).toMatch(dup);
    expect((JSON.parse(list.stdout) as { nodes: { title: string }[] }).nodes.map((n) => n.title)).toEqual([
      'First copy',
    ]);
    const show = await kg(['show', 'same', '--json']);
    expect(show.stderr).toMatch(dup);
    expect(JSON.parse(show.stdout)).toMatchObject({
      title: 'First copy',
      problems: [{ message: expect.stringMatching(/duplicate/) }],
    });
    for (const q of ['alpha', 'beta']) {
      const s = await kg(['search', q, '--json']);
      expect(s.stderr, q).toMatch(dup);
      const hits = (JSON.parse(s.stdout) as { hits: { title: string }[] }).hits.map((h) => h.title);
      expect(hits).toEqual(q === 'alpha' ? ['First copy'] : []);
    }

    const client = await mcp();
    const got = (await client.callTool({ name: 'get_node', arguments: { id: 'same' } })) as CallToolResult;
    expect(got.structuredContent).toMatchObject({
      title: 'First copy',
      problems: [{ path: 'notes/b.md', message: expect.stringMatching(/duplicate id 'same'/) }],
    });
    const found = (await client.callTool({
      name: 'search',
      arguments: { query: 'words', semantic: false },
    })) as CallToolResult;
    expect(found.structuredContent).toMatchObject({
      hits: [{ title: 'First copy' }],
      problems: [{ path: 'notes/b.md' }],
    });
    expect((found.content[0] as { text: string }).text).toMatch(/warning: notes\/b\.md: duplicate id 'same'/);
    await client.close();
  });

  it('a symlink out of the graph folder is never served over MCP (get_node, search, resources)', async () => {
    const { cwd, mcp } = await setup();
    mkdirSync(join(cwd, 'elsewhere'));
    writeFileSync(join(cwd, 'elsewhere', 's.md'), '---\nid: s\ntype: note\ntitle: S\n---\n\nnumbatword hunter2\n');
    mkdirSync(join(cwd, '.kogral', 'notes'), { recursive: true });
    symlinkSync(join(cwd, 'elsewhere', 's.md'), join(cwd, '.kogral', 'notes', 's.md'));
    const client = await mcp();
    const got = (await client.callTool({ name: 'get_node', arguments: { id: 's' } })) as CallToolResult;
    expect(got.isError).toBe(true);
    expect(JSON.stringify(got)).not.toContain('hunter2');
    const found = (await client.callTool({
      name: 'search',
      arguments: { query: 'numbatword', semantic: false },
    })) as CallToolResult;
    expect(found.structuredContent).toMatchObject({ count: 0 });
    expect(JSON.stringify(found)).not.toContain('hunter2');
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).not.toContain('kogral://node/s');
    await expect(client.readResource({ uri: 'kogral://node/s' })).rejects.toThrow();
    await client.close();
  });
});
