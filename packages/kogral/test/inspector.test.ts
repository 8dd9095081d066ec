import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspector } from '../../../test/mcp-inspector.js';
import { runBin, sandbox } from '../../../test/run-bin.js';

/** The MCP Inspector CLI (a devDependency) as an outside client of `kogral serve` (KG7). */
describe('kogral serve with the MCP Inspector CLI', { timeout: 180_000 }, () => {
  it('lists the tools, calls them, and gets invalid calls back as tool errors that change nothing', async () => {
    const { cwd, env } = sandbox();
    expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
    const graph = join(cwd, '.kogral');
    const call = inspector('kogral', ['serve'], { dir: cwd, env, serverEnv: { KOGRAL_DIR: graph } });
    const list = (await call('--method', 'tools/list')) as { tools: { name: string; inputSchema: unknown }[] };
    const names = list.tools.map((t) => t.name);
    for (const t of ['search', 'get_node', 'add_note', 'add_decision', 'add_execution', 'link', 'get_guidelines'])
      expect(names).toContain(t);

    const add = await call(
      '--method',
      'tools/call',
      '--tool-name',
      'add_note',
      '--tool-arg',
      'title="Inspector drives kogral"',
      'content="Rotate the etcd certificates before they expire."',
      'tags=["etcd","certs"]',
    );
    expect(add.isError).toBeFalsy();
    const id = String(add.structuredContent?.id);
    expect(id).toMatch(/^inspector-drives-kogral-/);
    expect(readdirSync(join(graph, 'notes'))).toEqual([`${id}.md`]);

    const found = await call(
      '--method',
      'tools/call',
      '--tool-name',
      'search',
      '--tool-arg',
      'query="etcd certificates"',
    );
    expect(found.isError).toBeFalsy();
    expect(JSON.stringify(found.structuredContent)).toContain(id);

    // A number where a string is required: a tool error naming the argument, and no node written.
    const bad = await call(
      '--method',
      'tools/call',
      '--tool-name',
      'add_note',
      '--tool-arg',
      'title=42',
      'content="x"',
    );
    expect(bad.isError).toBe(true);
    expect(bad.content?.[0]?.text).toMatch(/title/);
    const unknown = await call('--method', 'tools/call', '--tool-name', 'no_such_tool');
    expect(unknown.isError).toBe(true);
    expect(unknown.content?.[0]?.text).toMatch(/no_such_tool/);
    expect(readdirSync(join(graph, 'notes'))).toEqual([`${id}.md`]);
  });
});
