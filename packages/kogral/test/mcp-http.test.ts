import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, runBin, sandbox } from '../../../test/run-bin.js';

const TOKEN = 'test-token-0123456789abcdef';

describe('kogral serve --http (Streamable HTTP, bearer token) with the SDK client', { timeout: 120_000 }, () => {
  let child: ChildProcess;
  let url: string;
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ({ cwd, env } = sandbox());
    expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
    expect(
      (await runBin('kogral', ['add', 'note', 'Disk full on db-1', '--body', 'Rotate the WAL.'], { cwd, env })).code,
    ).toBe(0);
    child = spawn(process.execPath, [binPath('kogral'), 'serve', '--http', '0'], {
      cwd,
      env: { ...env, KOGRAL_MCP_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
  });
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  const connect = async (token: string) => {
    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  };

  it('listens on loopback and serves the tools to a client with the token', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = await connect(TOKEN);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('search');
    const r = await client.callTool({ name: 'search', arguments: { query: 'WAL', semantic: false } });
    expect((r.structuredContent as { hits: { title: string }[] }).hits.map((h) => h.title)).toEqual([
      'Disk full on db-1',
    ]);
    const add = await client.callTool({ name: 'add_note', arguments: { title: 'Over HTTP', content: 'x' } });
    expect(add.isError).toBeFalsy();
    await client.close();
    const list = await runBin('kogral', ['list', '--json'], { cwd, env });
    expect(list.stdout).toContain('Over HTTP');
  });

  it('refuses a missing or wrong token (401) and changes nothing', async () => {
    await expect(connect('wrong-token')).rejects.toThrow(/401|nauthorized/);
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    };
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(init) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers invalid JSON and invalid requests with JSON-RPC errors', async () => {
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${TOKEN}`,
    };
    const post = async (body: string) => {
      const res = await fetch(url, { method: 'POST', headers, body });
      return { status: res.status, body: (await res.json()) as { id: unknown; error: { code: number } } };
    };
    expect(await post('{"jsonrpc":')).toMatchObject({ status: 400, body: { id: null, error: { code: -32700 } } });
    expect(await post('[]')).toMatchObject({ status: 400, body: { id: null, error: { code: -32600 } } });
    expect(await post('{"jsonrpc":"1.0","id":4,"method":"ping"}')).toMatchObject({
      status: 400,
      body: { id: 4, error: { code: -32600 } },
    });
    expect(await post('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":1}}')).toMatchObject({
      status: 400,
      body: { id: 5, error: { code: -32602 } },
    });
    // A valid request without a session: initialize first.
    expect(await post('{"jsonrpc":"2.0","id":6,"method":"tools/list"}')).toMatchObject({
      status: 400,
      body: { id: 6, error: { code: -32600 } },
    });
  });

  it('refuses to start without a token', async () => {
    const r = await runBin('kogral', ['serve', '--http', '0'], { cwd, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KOGRAL_MCP_TOKEN/);
  });

  it('at the session limit, a new client closes the session left unused longest (none is locked out)', async () => {
    const { serveHttp } = await import('../../shared/src/mcp.js');
    const { loadConfig } = await import('../../shared/src/config.js');
    const { App } = await import('../src/runtime.js');
    const { createMcpServer } = await import('../src/server/mcp.js');
    const { tool } = await import('../src/tool.js');
    const config = loadConfig(tool.config, { cwd, file: join(cwd, '.kogral', 'config.toml') }).values as never;
    const app = new App(join(cwd, '.kogral'), { config, env: { ...env, KOGRAL_DAEMON: 'off' } });
    const server = await serveHttp(() => createMcpServer(app, 'test'), { port: 0, token: TOKEN, maxSessions: 1 });
    try {
      const open = async () => {
        const c = new Client({ name: 'limit', version: '1' });
        await c.connect(
          new StreamableHTTPClientTransport(new URL(server.url), {
            requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
          }),
        );
        return c;
      };
      const first = await open();
      expect((await first.listTools()).tools.length).toBeGreaterThan(0);
      const second = await open();
      expect((await second.listTools()).tools.length).toBeGreaterThan(0);
      await expect(first.listTools()).rejects.toThrow(/404|Session not found/);
      await second.close();
    } finally {
      await server.close();
      app.close();
    }
  });
});
