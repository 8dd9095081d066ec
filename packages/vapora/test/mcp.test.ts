import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { inspector } from '../../../test/mcp-inspector.js';
import { binPath, runBin, sandbox } from '../../../test/run-bin.js';

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;
const TOOLS = [
  'approve',
  'assign_task',
  'budget_status',
  'create_task',
  'list_approvals',
  'list_tasks',
  'pipeline_status',
  'reject',
  'route_preview',
  'run_pipeline',
  'task_status',
];

const clients: Client[] = [];
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
});

async function connect(cwd: string, env: NodeJS.ProcessEnv): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath('vapora'), 'mcp'],
    cwd,
    env: env as Record<string, string>,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'vapora-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

describe('vapora mcp (stdio) with the official SDK client and the MCP Inspector CLI', { timeout: 120_000 }, () => {
  it('lists the eleven tools, creates a task and runs a pipeline through them, as its token allows', async () => {
    const { cwd, env } = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, { cwd, env });
    expect((await v('init')).code).toBe(0);
    mkdirSync(join(cwd, '.vapora', 'pipelines'));
    writeFileSync(
      join(cwd, '.vapora', 'pipelines', 'ship.toml'),
      '[inputs.service]\nrequired = true\n[[steps]]\nid = "design"\nrole = "architect"\ntitle = "Design {{inputs.service}}"\n',
    );
    expect((await v('project', 'create', 'infra')).code).toBe(0);
    const admin = await connect(cwd, env); // the token vapora init wrote
    const { tools } = await admin.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    const created = await admin.callTool({
      name: 'create_task',
      arguments: { title: 'Validate manifests', type: 'manifest_validation', role: 'devops', project: 'infra' },
    });
    expect(created.isError).toBeFalsy();
    const id = (created.structuredContent as { id: string }).id;
    expect(text(await admin.callTool({ name: 'list_tasks', arguments: { project: 'infra' } }))).toContain(id);
    const runR = await admin.callTool({
      name: 'run_pipeline',
      arguments: { name: 'ship', inputs: { service: 'api' } },
    });
    expect(runR.isError, text(runR)).toBeFalsy();
    const runId = (runR.structuredContent as { run: { id: string } }).run.id;
    const st = await admin.callTool({ name: 'pipeline_status', arguments: { run_id: runId } });
    expect(st.structuredContent).toMatchObject({
      run: { status: 'running', pipeline: 'ship' },
      steps: [{ step: 'design' }],
    });
    const bad = await admin.callTool({ name: 'run_pipeline', arguments: { name: 'ship', inputs: {} } });
    expect([bad.isError, text(bad)]).toEqual([true, expect.stringMatching(/needs the input 'service'/)]);
    const preview = await admin.callTool({
      name: 'route_preview',
      arguments: { task_type: 'security_scan', role: 'security' },
    });
    expect(preview.structuredContent).toMatchObject({ task_type: 'security_scan', role: 'security' });
    const wrong = await admin.callTool({ name: 'create_task', arguments: { title: 'x', type: 'bad type!' } });
    expect(wrong.isError).toBe(true);

    // An assistant with a viewer token reads but cannot write: the same roles as the REST API.
    const viewer = (await v('token', 'create', '--name', 'assistant', '--role', 'viewer')).stdout.trim();
    const ro = await connect(cwd, { ...env, VAPORA_TOKEN: viewer });
    const denied = await ro.callTool({ name: 'create_task', arguments: { title: 'x', type: 'deploy' } });
    expect([denied.isError, text(denied)]).toEqual([true, "token 'assistant' (viewer) may not write task"]);
    expect((await ro.callTool({ name: 'list_tasks', arguments: {} })).isError).toBeFalsy();
    expect(JSON.parse((await v('task', 'list', '--json')).stdout).tasks).toHaveLength(2); // the viewer added none

    const forged = await runBin('vapora', ['mcp'], { cwd, env: { ...env, VAPORA_TOKEN: 'vapora_nope' } });
    expect([forged.code, forged.stderr]).toEqual([5, expect.stringMatching(/not a valid token/)]);
  });

  it('the MCP Inspector CLI lists the tools, creates a task and runs a pipeline', async () => {
    const { cwd, env } = sandbox();
    expect((await runBin('vapora', ['init'], { cwd, env })).code).toBe(0);
    const token = readFileSync(join(cwd, '.vapora', 'token'), 'utf8').trim();
    mkdirSync(join(cwd, '.vapora', 'pipelines'));
    writeFileSync(join(cwd, '.vapora', 'pipelines', 'ship.toml'), '[[steps]]\nid = "design"\nrole = "architect"\n');
    // vapora finds .vapora/ upwards from the inspector's working directory.
    const call = inspector('vapora', ['mcp'], { dir: cwd, env, serverEnv: { VAPORA_TOKEN: token } });
    const list = await call('--method', 'tools/list');
    expect(list.tools.map((t: { name: string }) => t.name).sort()).toEqual(TOOLS);
    const created = await call(
      '--method',
      'tools/call',
      '--tool-name',
      'create_task',
      '--tool-arg',
      'title=From the inspector',
      'type=deploy',
    );
    expect(created.isError).toBeFalsy();
    expect(created.structuredContent.title).toBe('From the inspector');
    const started = await call('--method', 'tools/call', '--tool-name', 'run_pipeline', '--tool-arg', 'name=ship');
    expect(started.isError).toBeFalsy();
    expect(started.structuredContent.run).toMatchObject({ pipeline: 'ship', status: 'running' });
    const status = await call(
      '--method',
      'tools/call',
      '--tool-name',
      'pipeline_status',
      '--tool-arg',
      `run_id=${started.structuredContent.run.id}`,
    );
    expect(status.structuredContent.steps.map((x: { step: string }) => x.step)).toEqual(['design']);
  });
});
