/**
 * A local HTTP server speaking OpenAI's Chat Completions wire format (POST /v1/chat/completions): each request
 * is recorded and answered by the script, in order. Stands in for the hosted API in tests.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
  body: { model?: string; messages?: { role: string; content: string }[] } & Record<string, unknown>;
}

export interface FakeOpenAi {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export const completion = (text: string) => ({
  id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
  object: 'chat.completion',
  created: 1_764_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop' }],
  usage: {
    prompt_tokens: 420,
    completion_tokens: 90,
    total_tokens: 510,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  },
});

/** A text answered as a completion, or a raw status and body (an API error). */
export type Reply = string | { status: number; body: unknown };

export async function fakeOpenAi(script: (n: number, req: Recorded) => Reply): Promise<FakeOpenAi> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Recorded['body'] = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {}
      const rec = { path: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      if (req.method !== 'POST' || rec.path !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${rec.path}`, type: 'invalid_request_error' } }));
        return;
      }
      const reply = script(requests.length - 1, rec);
      res.writeHead(typeof reply === 'string' ? 200 : reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(typeof reply === 'string' ? completion(reply) : reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
