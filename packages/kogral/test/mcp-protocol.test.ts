import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, runBin, sandbox } from '../../../test/run-bin.js';

/** kogral serve driven with raw bytes on stdin: every request with an id gets exactly one reply, in JSON-RPC 2.0 terms. */
describe('kogral serve answers malformed and invalid JSON-RPC (raw stdio)', { timeout: 120_000 }, () => {
  let child: ReturnType<typeof spawn>;
  const replies: unknown[] = [];
  let waiting: (() => void) | undefined;
  const send = (line: string) => child.stdin?.write(`${line}\n`);
  /** Waits until `n` replies have arrived in total. */
  const until = async (n: number) => {
    while (replies.length < n) await new Promise<void>((r) => (waiting = r));
    return replies.slice(0, n);
  };

  beforeAll(async () => {
    const { cwd, env } = sandbox();
    expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
    child = spawn(process.execPath, [binPath('kogral'), 'serve'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      replies.push(JSON.parse(l));
      waiting?.();
    });
  });
  afterAll(() => {
    child?.kill();
  });

  it('replies -32700, -32600 and -32602 with the request id where it can be read, then keeps serving', async () => {
    send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    );
    await until(1);
    send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    send('{"jsonrpc": "2.0", "id": 1, "method": "tools/list"'); // cut off
    send('[]');
    send('[{"jsonrpc":"2.0","id":2,"method":"ping"}]');
    send('{"jsonrpc":"1.0","id":3,"method":"tools/list"}');
    send('{"jsonrpc":"2.0","id":14,"method":"tools/call","params":null}');
    send('{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"search","arguments":"query"}}');
    send('{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":7}}');
    send('{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}');
    send('{"jsonrpc":"2.0","method":"notifications/initialized","params":null}'); // invalid, so answered (id null)
    send('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":[]}}'); // valid shape: never answered
    send('"just a string"');
    send(
      '{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"search","arguments":{"query":5,"limit":"x"}}}',
    );
    await until(12);
    send(`{"jsonrpc":"2.0","id":99,"method":"ping","params":{"pad":"${'x'.repeat(5 * 1024 * 1024)}"}}`);
    send('{"jsonrpc":"2.0","id":18,"method":"ping"}'); // still serving, the over-long line dropped whole
    const all = (await until(14)).slice(1) as {
      id: unknown;
      error?: { code: number; message: string };
      result?: { isError?: boolean; content: { text: string }[] };
    }[];
    const byOrder = all.map((r) => (Array.isArray(r) ? r.map((x) => [x.id, x.error.code]) : [r.id, r.error?.code]));
    expect(byOrder).toEqual([
      [null, -32700],
      [null, -32600],
      [[2, -32600]],
      [3, -32600],
      [14, -32600],
      [15, -32602],
      [16, -32602],
      [null, -32600],
      [null, -32600],
      [null, -32600],
      [17, undefined],
      [null, -32600],
      [18, undefined],
    ]);
    for (const r of all.filter((x) => !Array.isArray(x) && x.error)) {
      expect(r.error?.message).not.toContain('\n');
      expect(r.error?.message.length).toBeLessThan(200);
    }
    expect(all[5]?.error?.message).toBe(
      'Invalid params for tools/call: params.arguments: expected record, received string',
    );
    // Arguments of the wrong type: a tool error the model can correct, one line naming each field.
    const bad = all[10]?.result;
    expect(bad?.isError).toBe(true);
    expect(bad?.content[0]?.text).toMatch(/^MCP error -32602: .*query.*; .*limit$/);
    expect(all[11]?.error?.message).toMatch(/over \d+ bytes/);
    expect(all[12]).toEqual({ jsonrpc: '2.0', id: 18, result: {} });
  });
});
