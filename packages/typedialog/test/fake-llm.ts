/**
 * A local HTTP server speaking the real wire formats of Anthropic Messages (POST /v1/messages) and OpenAI Chat
 * Completions (POST /v1/chat/completions): each request is recorded and answered by the script, in order.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { AgentRequest, Caller } from '../src/core/agent/run.js';
import { tmp } from './helpers.js';

export interface Recorded {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** What to answer: a text in the wire format of the endpoint asked, or a raw status and body. */
export type Reply =
  | { text: string; input?: number; output?: number; model?: string }
  | { status: number; body: unknown };

export interface FakeLlm {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export const wire = {
  anthropic: (text: string, o: { model?: string; input?: number; output?: number } = {}) => ({
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: o.model ?? 'claude-sonnet-4-6',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: o.input ?? 120,
      output_tokens: o.output ?? 40,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  }),
  openai: (text: string, o: { model?: string; input?: number; output?: number } = {}) => ({
    id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
    object: 'chat.completion',
    created: 1_764_000_000,
    model: o.model ?? 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: o.input ?? 120,
      completion_tokens: o.output ?? 40,
      total_tokens: (o.input ?? 120) + (o.output ?? 40),
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  }),
  anthropicError: (type: string, message: string) => ({ type: 'error', error: { type, message } }),
  openaiError: (message: string, type = 'invalid_request_error') => ({
    error: { message, type, param: null, code: null },
  }),
};

export async function fakeLlm(script: (n: number, req: Recorded) => Reply): Promise<FakeLlm> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const rec = { path: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      const r = script(requests.length - 1, rec);
      let status = 200;
      let payload: unknown;
      if ('status' in r) {
        status = r.status;
        payload = r.body;
      } else if (rec.path.endsWith('/v1/messages')) payload = wire.anthropic(r.text, r);
      else if (rec.path.endsWith('/v1/chat/completions')) payload = wire.openai(r.text, r);
      else {
        status = 404;
        payload = { error: { message: `no route ${rec.path}`, type: 'not_found_error' } };
      }
      if (status === 200 && body.stream === true && rec.path.endsWith('/v1/messages') && !('status' in r)) {
        // Anthropic's SSE stream: the text in a few deltas, usage at the start and in message_delta.
        const m = wire.anthropic(r.text, r);
        const events: [string, unknown][] = [
          [
            'message_start',
            { type: 'message_start', message: { ...m, content: [], usage: { ...m.usage, output_tokens: 1 } } },
          ],
          ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
          ['ping', { type: 'ping' }],
          ...(r.text.match(/[\s\S]{1,8}/g) ?? []).map((t): [string, unknown] => [
            'content_block_delta',
            { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } },
          ]),
          ['content_block_stop', { type: 'content_block_stop', index: 0 }],
          [
            'message_delta',
            {
              type: 'message_delta',
              delta: { stop_reason: 'end_turn', stop_sequence: null },
              usage: { output_tokens: m.usage.output_tokens },
            },
          ],
          ['message_stop', { type: 'message_stop' }],
        ];
        res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': `req_${requests.length}` });
        res.end(events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join(''));
        return;
      }
      if (status === 200 && body.stream === true && rec.path.endsWith('/v1/chat/completions') && !('status' in r)) {
        // OpenAI's SSE stream: chunks with `delta.content`, a finish chunk, the usage chunk (`choices: []`, sent
        // because the request asks `stream_options.include_usage`), then `data: [DONE]`.
        const m = wire.openai(r.text, r);
        const chunk = (choices: unknown[], usage: unknown = null) =>
          JSON.stringify({
            id: m.id,
            object: 'chat.completion.chunk',
            created: m.created,
            model: m.model,
            choices,
            usage,
          });
        const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
        const lines = [
          chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, finish_reason: null }]),
          ...(r.text.match(/[\s\S]{1,8}/g) ?? []).map((t) =>
            chunk([{ index: 0, delta: { content: t }, finish_reason: null }]),
          ),
          chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
          ...(wantsUsage ? [chunk([], m.usage)] : []),
          '[DONE]',
        ];
        res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': `req_${requests.length}` });
        res.end(lines.map((l) => `data: ${l}\n\n`).join(''));
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${requests.length}` });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A Caller (the agent core's port to an LLM) answering from a list, in order, recording each request: for the
 * core's repair loops without a server. A non-string answer is sent as its JSON.
 */
export function scripted(answers: unknown[]): Caller & { requests: AgentRequest[] } {
  const requests: AgentRequest[] = [];
  return {
    requests,
    async call(req) {
      requests.push(req);
      const a = answers[requests.length - 1];
      return {
        text: typeof a === 'string' ? a : (JSON.stringify(a) ?? ''),
        target: 'openai:gpt-4o-mini',
        inputTokens: 10,
        outputTokens: 5,
        costMicrocents: 7,
      };
    },
  };
}

/**
 * For a describe block: each test's fake server (closed after the test) and a project folder whose
 * typedialog.toml, `config(url)`, points at it; `env` keeps typedialog's data (the costs) in the folder.
 */
export function llmProjects(config: (url: string) => string) {
  let server: FakeLlm | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  /** A fake server for this test, closed after it. */
  const serve = async (script: (n: number) => Reply): Promise<FakeLlm> => {
    server = await fakeLlm((n) => script(n));
    return server;
  };
  const project = async (script: (n: number) => Reply) => {
    const srv = await serve(script);
    const dir = tmp();
    writeFileSync(join(dir, 'typedialog.toml'), config(srv.url));
    const data = join(dir, 'data');
    return { dir, data, env: { TYPEDIALOG_DATA_DIR: data }, srv };
  };
  return { serve, project };
}
