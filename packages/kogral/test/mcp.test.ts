import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { mcpClient } from './helpers.js';

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

describe('kogral serve (MCP over stdio) with the official SDK client', { timeout: 120_000 }, () => {
  let client: Client;
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  let stderr = '';
  const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });

  beforeAll(async () => {
    ({ cwd, env } = sandbox());
    const org = join(cwd, 'org', '.kogral');
    mkdirSync(org, { recursive: true });
    expect((await runBin('kogral', ['init'], { cwd: join(cwd, 'org'), env })).code).toBe(0);
    expect(
      (
        await runBin('kogral', ['add', 'guideline', 'Kubernetes deployments', '--body', 'Org rule.'], {
          cwd: join(cwd, 'org'),
          env,
        })
      ).code,
    ).toBe(0);
    expect((await runBin('kogral', ['init', '--org', 'org'], { cwd, env })).code).toBe(0);
    client = await mcpClient(cwd, env, (text) => {
      stderr += text;
    });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('lists the tools (seed 003 and the editing tools) with their parameter names', async () => {
    const { tools } = await client.listTools();
    const params = Object.fromEntries(tools.map((t) => [t.name, Object.keys(t.inputSchema.properties ?? {})]));
    expect(Object.keys(params).sort()).toEqual(
      [
        'add_decision',
        'add_execution',
        'add_note',
        'build_context',
        'delete_node',
        'edit_node',
        'export',
        'get_guidelines',
        'get_node',
        'link',
        'list_graphs',
        'move_node',
        'recent_activity',
        'search',
        'switch',
      ].sort(),
    );
    expect(params.search).toEqual(expect.arrayContaining(['query', 'node_type', 'limit']));
    expect(params.add_note).toEqual(['graph', 'title', 'content', 'tags']);
    for (const t of tools)
      if (t.name !== 'list_graphs') expect(Object.keys(t.inputSchema.properties ?? {}), t.name).toContain('graph');
    expect(params.add_decision).toEqual(expect.arrayContaining(['title', 'context', 'decision', 'consequences']));
    expect(params.add_execution).toEqual(
      expect.arrayContaining(['title', 'context', 'root_cause', 'resolution', 'action_items', 'tags']),
    );
    expect(params.link).toEqual(expect.arrayContaining(['source_id', 'target_id', 'relation']));
    expect(params.get_guidelines).toEqual(expect.arrayContaining(['topic', 'include_shared']));
    expect(params.export).toEqual(['graph', 'format', 'filter']);
    for (const t of tools) expect(t.description, t.name).toBeTruthy();
  });

  it('calls every tool; nodes are resources', async () => {
    const note = await call('add_note', {
      title: 'Nginx 502 troubleshooting',
      content: 'Check upstreams. See [[Use Cilium]].',
      tags: ['nginx'],
    });
    expect(note.isError).toBeFalsy();
    const noteId = (note.structuredContent as { id: string }).id;
    const old = await call('add_decision', {
      title: 'Use Calico',
      context: 'c',
      decision: 'd',
      consequences: 'e',
      status: 'accepted',
    });
    const oldId = (old.structuredContent as { id: string }).id;
    const dec = await call('add_decision', {
      title: 'Use Cilium',
      context: 'eBPF',
      decision: 'Cilium',
      consequences: 'kernel',
      supersedes: oldId,
    });
    expect(dec.structuredContent).toMatchObject({ also: [{ id: oldId, status: 'superseded' }] });
    const decId = (dec.structuredContent as { id: string }).id;
    const exe = await call('add_execution', {
      title: '2026-01-22 PostgreSQL Connection Pool Exhaustion',
      context: 'Production database connections maxed out at 100/100',
      root_cause: 'Connection leak in application code, connections not released',
      resolution: 'Increased max_connections from 100 to 200, added PgBouncer pooler, fixed connection leak',
      action_items: 'Implement connection pool monitoring, add alerts at 80% utilization',
      tags: 'database,incident,postgresql,production',
    });
    expect(exe.isError).toBeFalsy();
    const exeId = (exe.structuredContent as { id: string }).id;

    const s = await call('search', { query: 'database ran out of connections', limit: 3 });
    expect((s.structuredContent as { hits: { id: string }[] }).hits[0]?.id).toBe(exeId);
    const t = await call('search', { query: 'upstreams', node_type: 'note', semantic: false });
    expect(text(t)).toContain('Nginx 502 troubleshooting');

    const got = await call('get_node', { id: decId });
    expect(text(got)).toMatch(/^---\nid: use-cilium/);
    expect(got.structuredContent).toMatchObject({ backlinks: [{ from: noteId, via: 'wikilink' }] });

    const l = await call('link', { source_id: noteId, target_id: exeId, relation: 'explains', weight: 0.5 });
    expect(l.structuredContent).toEqual({ source_id: noteId, target_id: exeId, relation: 'explains', weight: 0.5 });

    const g = await call('get_guidelines', { topic: 'kubernetes deployment', include_shared: true });
    expect(g.structuredContent).toMatchObject({
      count: 1,
      guidelines: [{ graph: 'org', title: 'Kubernetes deployments' }],
    });
    expect(
      (await call('get_guidelines', { topic: 'kubernetes', include_shared: false })).structuredContent,
    ).toMatchObject({ count: 0 });

    const graphs = await call('list_graphs', {});
    expect((graphs.structuredContent as { graphs: { kind: string; nodes: number }[] }).graphs).toEqual([
      expect.objectContaining({ kind: 'project', nodes: 4 }),
      expect.objectContaining({ kind: 'org', nodes: 1 }),
    ]);

    const ex = await call('export', { format: 'json', filter: { type: 'decision' } });
    expect(
      JSON.parse(text(ex))
        .nodes.map((n: { id: string }) => n.id)
        .sort(),
    ).toEqual([decId, oldId].sort());
    expect(text(await call('export', { format: 'yaml' }))).toMatch(/^kogral: 1/);
    expect(text(await call('export', { format: 'markdown', filter: { ids: [noteId] } }))).toMatch(
      /<!-- kogral: notes\//,
    );

    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(`kogral://node/${exeId}`);
    const read = await client.readResource({ uri: `kogral://node/${exeId}` });
    expect((read.contents[0] as { text: string }).text).toContain('## Root Cause');
  });

  it('returns invalid arguments and failures as isError results, and keeps serving', async () => {
    const bad = [
      await call('search', { query: 42 }),
      await call('search', { query: 'x', limit: 0 }),
      await call('search', { query: 'x', type: 'note' }), // seed 003 calls it node_type
      await call('add_note', { title: 'x' }),
      await call('link', { source_id: 'a', target_id: 'b', relation: 'likes' }),
      await call('link', { source_id: 'nope-000000', target_id: 'nada-000000' }),
      await call('get_node', { id: 'missing' }),
      await call('export', { format: 'csv' }),
      await call('add_execution', { title: 'x', root_cause: 'r', resolution: 's', started: 'yesterday' }),
      await call('add_note', { title: 'Nginx 502 troubleshooting', content: 'duplicate' }),
    ];
    for (const r of bad) expect(r.isError, text(r)).toBe(true);
    expect(text(bad[6])).toMatch(/no node 'missing'/);
    expect(text(bad[9])).toMatch(/already exists/);
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).resolves.toMatchObject({ isError: true });
    expect((await call('list_graphs', {})).isError).toBeFalsy();
    expect(stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('the CLI and the MCP server writing at the same time never lose a node', async () => {
    const cli = Array.from({ length: 6 }, (_, i) =>
      runBin('kogral', ['add', 'note', `CLI note ${i}`, '--body', `from the CLI ${i}`], {
        cwd,
        env,
        timeoutMs: 60_000,
      }),
    );
    const mcp = Array.from({ length: 6 }, (_, i) =>
      call('add_note', { title: `MCP note ${i}`, content: `from MCP ${i}` }),
    );
    const links = Array.from({ length: 4 }, (_, i) =>
      runBin('kogral', ['link', 'Nginx 502 troubleshooting', `MCP note ${i}`], { cwd, env, timeoutMs: 60_000 }),
    );
    const results = await Promise.allSettled([...cli, ...mcp]);
    for (const r of results) expect(r.status).toBe('fulfilled');
    for (const r of await Promise.all(links)) if (r.code !== 0) expect(r.stderr).toMatch(/no node 'MCP note/); // raced ahead
    const notes = readdirSync(join(cwd, '.kogral', 'notes'));
    for (let i = 0; i < 6; i++) {
      expect(notes.some((n) => n.startsWith(`cli-note-${i}-`))).toBe(true);
      expect(notes.some((n) => n.startsWith(`mcp-note-${i}-`))).toBe(true);
    }
    const list = await runBin('kogral', ['list', '--type', 'note', '--json'], { cwd, env });
    expect(JSON.parse(list.stdout).total).toBe(13);
    expect(list.stderr).toBe('');
  });
});
