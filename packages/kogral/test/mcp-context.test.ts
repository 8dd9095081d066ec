import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { mcpClient } from './helpers.js';

const promptText = (r: { messages: unknown[] }) => (r.messages[0] as { content: { text: string } }).content.text;
const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

/** A node file written by hand, with dates in the past (what a graph a year old holds). */
const oldNode = (dir: string, id: string, title: string, updated: string, body: string) =>
  writeFileSync(
    join(dir, 'notes', `${id}.md`),
    `---\nid: ${id}\ntype: note\ntitle: ${title}\nstatus: active\ncreated: ${updated}\nupdated: ${updated}\n---\n\n${body}\n`,
  );

describe('kogral MCP: recent activity, context, several graphs, prompts, guide (SDK client)', {
  timeout: 120_000,
}, () => {
  let client: Client;
  let cwd: string;
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    return r;
  };
  const structured = async <T>(name: string, args: Record<string, unknown>) => {
    const r = await call(name, args);
    expect(r.isError, text(r)).toBeFalsy();
    return r.structuredContent as T;
  };

  beforeAll(async () => {
    const sb = sandbox();
    cwd = sb.cwd;
    const env = sb.env;
    const ops = join(cwd, 'ops');
    mkdirSync(ops);
    expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
    expect((await runBin('kogral', ['init'], { cwd: ops, env })).code).toBe(0);
    appendFileSync(join(cwd, '.kogral', 'config.toml'), '\n[[graphs]]\nname = "ops"\npath = "ops"\n');
    const dir = join(cwd, '.kogral');
    mkdirSync(join(dir, 'notes'), { recursive: true });
    // A chain: pool-runbook -> [[PgBouncer setup]] -> depends_on db-tuning (old) -> [[Kernel limits]]
    oldNode(dir, 'kernel-limits', 'Kernel limits', '2026-11-30T10:00:00Z', 'Raise nofile for PgBouncer.');
    oldNode(
      dir,
      'db-tuning',
      'DB tuning',
      '2020-01-01T00:00:00Z',
      'max_connections and work_mem. See [[Kernel limits]].',
    );
    writeFileSync(
      join(dir, 'notes', 'pgbouncer-setup.md'),
      `---\nid: pgbouncer-setup\ntype: note\ntitle: PgBouncer setup\nstatus: active\ncreated: 2026-11-29T00:00:00Z\nupdated: 2026-11-29T00:00:00Z\nrelations:\n  - type: depends_on\n    target: db-tuning\n    weight: 0.5\n---\n\nTransaction pooling in front of PostgreSQL.\n`,
    );
    oldNode(dir, 'pool-runbook', 'Pool exhaustion runbook', '2026-12-01T00:00:00Z', 'Check [[PgBouncer setup]] first.');
    oldNode(dir, 'unrelated', 'Unrelated', '2019-06-01T00:00:00Z', 'Nothing to do with pools.');
    client = await mcpClient(cwd, env);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('recent_activity: a window, newest first, by type', async () => {
    const added = await structured<{ id: string }>('add_execution', {
      title: '2026-12-06 Pool exhausted',
      root_cause: 'a leak',
      resolution: 'PgBouncer',
    });
    type Act = { count: number; items: { id: string; change: string; type: string }[] };
    const week = await structured<Act>('recent_activity', { since: '2026-11-28' });
    expect(week.items.map((i) => i.id)).toEqual([added.id, 'pool-runbook', 'kernel-limits', 'pgbouncer-setup']);
    expect(week.items[0]?.change).toBe('created');
    const onlyExec = await structured<Act>('recent_activity', { since: '2026-11-28', types: ['execution'] });
    expect(onlyExec.items.map((i) => i.id)).toEqual([added.id]);
    const window = await structured<Act>('recent_activity', { since: '2019-01-01', until: '2020-12-31' });
    expect(window.items.map((i) => i.id)).toEqual(['db-tuning', 'unrelated']);
    const bad = await call('recent_activity', { since: 'last tuesday' });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/neither a date nor a span/);
  });

  it('build_context: relations both ways to depth N, ranked, within a time window', async () => {
    type Ctx = { root: { id: string }; related: { id: string; depth: number; relation: string; direction: string }[] };
    const one = await structured<Ctx>('build_context', { id: 'PgBouncer setup', depth: 1 });
    expect(one.root.id).toBe('pgbouncer-setup');
    expect(one.related.map((r) => [r.id, r.depth, r.relation, r.direction])).toEqual([
      ['pool-runbook', 1, 'relates_to', 'in'], // weight 1 ranks before weight 0.5
      ['db-tuning', 1, 'depends_on', 'out'],
    ]);
    const three = await structured<Ctx>('build_context', { id: 'pool-runbook', depth: 3 });
    expect(three.related.map((r) => [r.id, r.depth])).toEqual([
      ['pgbouncer-setup', 1],
      ['db-tuning', 2],
      ['kernel-limits', 3],
    ]);
    // The old node is passed through, not returned: what lies beyond it still is.
    const recent = await structured<Ctx>('build_context', { id: 'pool-runbook', depth: 3, since: '2026-11-01' });
    expect(recent.related.map((r) => r.id)).toEqual(['pgbouncer-setup', 'kernel-limits']);
    expect(text(await call('build_context', { id: 'pool-runbook', depth: 1 }))).toMatch(/# Pool exhaustion runbook/);
    expect((await call('build_context', { id: 'nope' })).isError).toBe(true);
    expect((await call('build_context', { id: 'pool-runbook', depth: 9 })).isError).toBe(true);
  });

  it('several graphs: a graph argument on every tool, list_graphs and switch', async () => {
    type Graphs = { current: string; graphs: { name: string; kind: string; current?: boolean; nodes?: number }[] };
    const before = await structured<Graphs>('list_graphs', {});
    const home = before.current;
    expect(before.graphs.map((g) => [g.name, g.kind, g.current])).toEqual([
      [home, 'project', true],
      ['ops', 'extra', false],
    ]);
    const added = await structured<{ id: string }>('add_note', {
      graph: 'ops',
      title: 'Ops only',
      content: 'in the ops graph',
    });
    expect(readdirSync(join(cwd, 'ops', '.kogral', 'notes'))).toEqual([`${added.id}.md`]);
    expect(existsSync(join(cwd, '.kogral', 'notes', `${added.id}.md`))).toBe(false);
    type Hits = { hits: { id: string }[] };
    expect((await structured<Hits>('search', { query: 'ops graph', semantic: false })).hits).toEqual([]);
    expect(
      (await structured<Hits>('search', { graph: 'ops', query: 'ops graph', semantic: false })).hits.map((h) => h.id),
    ).toEqual([added.id]);

    expect(await structured('switch', { graph: 'ops' })).toMatchObject({ current: 'ops', previous: home, nodes: 1 });
    expect((await structured<Hits>('search', { query: 'ops graph', semantic: false })).hits.map((h) => h.id)).toEqual([
      added.id,
    ]);
    expect((await structured<Graphs>('list_graphs', {})).current).toBe('ops');
    expect((await structured<{ id: string }>('get_node', { graph: home, id: 'db-tuning' })).id).toBe('db-tuning');
    const missing = await call('switch', { graph: 'nope' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/no graph 'nope'.*graphs here: .*ops/);
    expect((await call('search', { graph: 'nope', query: 'x' })).isError).toBe(true);
    await structured('switch', { graph: home });
  });

  it('prompts for a postmortem, an ADR and a runbook; a usage guide resource', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(['adr', 'postmortem', 'runbook']);
    const pm = await client.getPrompt({
      name: 'postmortem',
      arguments: { incident: 'PG pool exhausted', notes: '10:02 alerts' },
    });
    const pmText = promptText(pm);
    expect(pmText).toContain('PG pool exhausted');
    expect(pmText).toContain('10:02 alerts');
    expect(pmText).toMatch(/add_execution/);
    const adr = await client.getPrompt({ name: 'adr', arguments: { decision: 'Use Cilium' } });
    expect(promptText(adr)).toMatch(/add_decision[\s\S]*supersedes/);
    const rb = await client.getPrompt({ name: 'runbook', arguments: { task: 'fail over the primary' } });
    expect(promptText(rb)).toMatch(/## Steps/);
    await expect(client.getPrompt({ name: 'postmortem', arguments: {} })).rejects.toThrow(/incident/);

    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain('kogral://guide');
    const guide = await client.readResource({ uri: 'kogral://guide' });
    const g = (guide.contents[0] as { text: string }).text;
    for (const tool of ['search', 'build_context', 'recent_activity', 'edit_node', 'switch']) expect(g).toContain(tool);
  });
});
