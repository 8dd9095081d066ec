import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { binPath, runBin, sandbox } from '../../../test/run-bin.js';

/**
 * The MCP Inspector CLI as an outside client (KG7). It is not a dependency of the workspace
 * (its install pulls many packages); this suite runs when `mcp-inspector` is installed.
 */
const inspector = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.bin', 'mcp-inspector');
const have = existsSync(inspector);
if (!have) console.warn('skipping the MCP Inspector test: npm install -D @modelcontextprotocol/inspector to run it');
const run = promisify(execFile);

describe.skipIf(!have)('kogral serve with the MCP Inspector CLI', { timeout: 120_000 }, () => {
  it('lists the tools, calls one, and gets invalid arguments back as a tool error', async () => {
    const { cwd, env } = sandbox();
    expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
    const base = ['--cli', '-e', `KOGRAL_DIR=${join(cwd, '.kogral')}`, process.execPath, binPath('kogral'), 'serve'];
    const list = await run(inspector, [...base, '--method', 'tools/list'], { env: { ...process.env, ...env } });
    expect(JSON.parse(list.stdout).tools.map((t: { name: string }) => t.name)).toContain('get_guidelines');
    const add = await run(
      inspector,
      [
        ...base,
        '--method',
        'tools/call',
        '--tool-name',
        'add_note',
        '--tool-arg',
        'title="From the inspector"',
        'content="hello"',
      ],
      { env: { ...process.env, ...env } },
    );
    expect(JSON.parse(add.stdout).structuredContent.id).toMatch(/^from-the-inspector-/);
    const bad = await run(
      inspector,
      [...base, '--method', 'tools/call', '--tool-name', 'search', '--tool-arg', 'query=42'],
      {
        env: { ...process.env, ...env },
      },
    ).catch((e: { code: number; stdout: string }) => e);
    expect((bad as { code: number }).code).toBe(5);
  });
});
