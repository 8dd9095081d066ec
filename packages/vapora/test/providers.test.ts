import { afterEach, describe, expect, it } from 'vitest';
import { safeUrl } from '../src/adapters/llm/http.js';
import { apiKeyProblem } from '../src/adapters/llm/index.js';
import {
  AnthropicProvider,
  createProvider,
  ExecProvider,
  GeminiProvider,
  OllamaProvider,
  OpenAiProvider,
} from '../src/client/llm.js';
import { type FakeServer, fakeServer, llmFailure, wire } from './helpers.js';

const msg = (content: string) => [{ role: 'user' as const, content }];
let servers: FakeServer[] = [];
const serve = async (...a: Parameters<typeof fakeServer>) => {
  const s = await fakeServer(...a);
  servers.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe('Anthropic Messages', () => {
  it('sends the Messages request with x-api-key and anthropic-version, and reads text, served model and usage', async () => {
    const s = await serve(() => ({
      json: wire.anthropic('hello', { model: 'claude-sonnet-4-6', input: 11, output: 3, cacheRead: 5, cacheWrite: 2 }),
    }));
    const p = new AnthropicProvider({ baseUrl: s.url, apiKey: 'sk-ant-secret' });
    const r = await p.chat({
      model: 'claude-sonnet-4-6',
      system: 'be brief',
      messages: msg('hi'),
      maxTokens: 64,
      temperature: 0,
    });
    expect(r).toMatchObject({ text: 'hello', model: 'claude-sonnet-4-6', finishReason: 'stop', id: 'msg_01' });
    expect(r.usage).toEqual({
      inputTokens: 11,
      outputTokens: 3,
      cacheReadTokens: 5,
      cacheWriteTokens: 2,
      reasoningTokens: 0,
    });
    const req = s.requests[0]!;
    expect(req.url).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe('sk-ant-secret');
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: msg('hi'),
      system: 'be brief',
      temperature: 0,
    });
  });

  it('maps 429 with retry-after, 529 overloaded and 401 to error kinds, without leaking the key', async () => {
    const replies = [
      { status: 429, json: wire.anthropicError('rate_limit_error', 'slow down'), headers: { 'retry-after': '3' } },
      { status: 529, json: wire.anthropicError('overloaded_error', 'Overloaded') },
      { status: 401, json: wire.anthropicError('authentication_error', 'invalid x-api-key') },
      {
        status: 400,
        json: wire.anthropicError('invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'),
      },
      { status: 500, json: wire.anthropicError('api_error', 'Internal server error') },
    ];
    const s = await serve((n) => replies[n]!);
    const p = new AnthropicProvider({ baseUrl: s.url, apiKey: 'sk-ant-secret' });
    const call = () => p.chat({ model: 'claude-sonnet-4-6', messages: msg('hi'), maxTokens: 10 });
    const e1 = await llmFailure(call());
    expect([e1.kind, e1.info.status, e1.info.retryAfterMs, e1.action]).toEqual(['rate_limit', 429, 3000, 'retry']);
    expect((await llmFailure(call())).kind).toBe('overloaded');
    const e3 = await llmFailure(call());
    expect([e3.kind, e3.action]).toEqual(['auth', 'fail']);
    expect(e3.message).not.toContain('sk-ant-secret');
    expect((await llmFailure(call())).kind).toBe('context_window');
    expect((await llmFailure(call())).kind).toBe('server');
  });

  it('streams SSE deltas and takes the cumulative output usage of message_delta', async () => {
    const events = wire.sse([
      {
        event: 'message_start',
        data: {
          type: 'message_start',
          message: { id: 'msg_2', model: 'claude-sonnet-4-6', usage: { input_tokens: 25, output_tokens: 1 } },
        },
      },
      {
        event: 'content_block_start',
        data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      },
      { event: 'ping', data: { type: 'ping' } },
      {
        event: 'content_block_delta',
        data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
      },
      {
        event: 'content_block_delta',
        data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } },
      },
      { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
      {
        event: 'message_delta',
        data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } },
      },
      { event: 'message_stop', data: { type: 'message_stop' } },
    ]);
    const s = await serve(() => ({ chunks: events }));
    const deltas: string[] = [];
    const r = await new AnthropicProvider({ baseUrl: s.url }).chat({
      model: 'claude-sonnet-4-6',
      messages: msg('hi'),
      maxTokens: 10,
      onDelta: (t) => deltas.push(t),
    });
    expect(deltas).toEqual(['Hel', 'lo']);
    expect(r).toMatchObject({ text: 'Hello', finishReason: 'stop' });
    expect(r.usage).toMatchObject({ inputTokens: 25, outputTokens: 15 });
    expect((s.requests[0]!.body as { stream: boolean }).stream).toBe(true);
  });

  it('a stream cut after output reached the caller is a partial error (never replayed elsewhere)', async () => {
    const events = wire.sse([
      {
        event: 'message_start',
        data: { type: 'message_start', message: { id: 'm', model: 'claude-sonnet-4-6', usage: { input_tokens: 3 } } },
      },
      {
        event: 'content_block_delta',
        data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'par' } },
      },
    ]);
    const s = await serve(() => ({ chunks: events, cut: true }));
    const e = await llmFailure(
      new AnthropicProvider({ baseUrl: s.url }).chat({
        model: 'm',
        messages: msg('x'),
        maxTokens: 5,
        onDelta: () => {},
      }),
    );
    expect(e.info.partial).toBe(true);
  });

  it('an overloaded_error event inside the stream before any output is retryable, not partial', async () => {
    const events = wire.sse([
      {
        event: 'message_start',
        data: { type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 3 } } },
      },
      { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } },
    ]);
    const s = await serve(() => ({ chunks: events }));
    const e = await llmFailure(
      new AnthropicProvider({ baseUrl: s.url }).chat({
        model: 'm',
        messages: msg('x'),
        maxTokens: 5,
        onDelta: () => {},
      }),
    );
    expect([e.kind, e.info.partial]).toEqual(['overloaded', undefined]);
  });
});

describe('OpenAI Chat Completions', () => {
  it('sends a bearer key and max_completion_tokens, counts cached prompt tokens apart', async () => {
    const s = await serve(() => ({ json: wire.openai('ok', { prompt: 100, completion: 8, cached: 60 }) }));
    const r = await new OpenAiProvider({ baseUrl: s.url, apiKey: 'sk-proj-secret' }).chat({
      model: 'gpt-4o-mini',
      system: 'sys',
      messages: msg('hi'),
      maxTokens: 32,
      json: true,
    });
    expect(r).toMatchObject({ text: 'ok', model: 'gpt-4o-mini-2024-07-18', finishReason: 'stop' });
    expect(r.usage).toMatchObject({ inputTokens: 40, cacheReadTokens: 60, outputTokens: 8 });
    const req = s.requests[0]!;
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-proj-secret');
    expect(req.body).toMatchObject({
      model: 'gpt-4o-mini',
      messages: [{ role: 'system', content: 'sys' }, ...msg('hi')],
      max_completion_tokens: 32,
      response_format: { type: 'json_object' },
    });
  });

  it('maps errors: 429 with retry-after-ms, context length, content policy, 500', async () => {
    const replies = [
      {
        status: 429,
        json: wire.openaiError('Rate limit reached', 'requests', 'rate_limit_exceeded'),
        headers: { 'retry-after-ms': '250' },
      },
      {
        status: 400,
        json: wire.openaiError(
          "This model's maximum context length is 128000 tokens",
          'invalid_request_error',
          'context_length_exceeded',
        ),
      },
      {
        status: 400,
        json: wire.openaiError(
          'Your request was rejected as a result of our safety system',
          'invalid_request_error',
          'content_policy_violation',
        ),
      },
      { status: 500, json: wire.openaiError('The server had an error', 'server_error') },
      { status: 404, json: wire.openaiError('The model `gpt-9` does not exist') },
    ];
    const s = await serve((n) => replies[n]!);
    const p = new OpenAiProvider({ baseUrl: s.url });
    const call = () => p.chat({ model: 'gpt-4o-mini', messages: msg('hi'), maxTokens: 10 });
    const e1 = await llmFailure(call());
    expect([e1.kind, e1.info.retryAfterMs]).toEqual(['rate_limit', 250]);
    expect((await llmFailure(call())).kind).toBe('context_window');
    expect((await llmFailure(call())).kind).toBe('content_policy');
    expect((await llmFailure(call())).kind).toBe('server');
    expect((await llmFailure(call())).kind).toBe('invalid_request');
  });

  it('streams with include_usage and needs [DONE]', async () => {
    const chunk = (content: string | null, finish: string | null = null) => ({
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
      usage: null,
    });
    const ok = wire.sse([
      { data: chunk('Hi') },
      { data: chunk(' there') },
      { data: chunk(null, 'stop') },
      {
        data: {
          id: 'c1',
          object: 'chat.completion.chunk',
          model: 'gpt-4o-mini-2024-07-18',
          choices: [],
          usage: { prompt_tokens: 9, completion_tokens: 2 },
        },
      },
      { data: '[DONE]' },
    ]);
    const s = await serve((n) => (n === 0 ? { chunks: ok } : { chunks: ok.slice(0, 2) }));
    const p = new OpenAiProvider({ baseUrl: s.url });
    const got: string[] = [];
    const r = await p.chat({ model: 'gpt-4o-mini', messages: msg('x'), maxTokens: 5, onDelta: (t) => got.push(t) });
    expect(got.join('')).toBe('Hi there');
    expect(r.usage).toMatchObject({ inputTokens: 9, outputTokens: 2 });
    expect(s.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const e = await llmFailure(p.chat({ model: 'gpt-4o-mini', messages: msg('x'), maxTokens: 5, onDelta: () => {} }));
    expect(e.message).toMatch(/without \[DONE\]/);
    expect(e.info.partial).toBe(true);
  });

  it('garbage with status 200 is a bad_response; a body without usage too', async () => {
    const s = await serve((n) =>
      n === 0 ? { text: '<html>gateway</html>' } : { json: { choices: [{ message: { content: 'x' } }] } },
    );
    const p = new OpenAiProvider({ baseUrl: s.url });
    expect((await llmFailure(p.chat({ model: 'm', messages: msg('x'), maxTokens: 5 }))).kind).toBe('bad_response');
    const e = await llmFailure(p.chat({ model: 'm', messages: msg('x'), maxTokens: 5 }));
    expect([e.kind, e.message]).toEqual([
      'bad_response',
      `openai POST ${s.url}/v1/chat/completions → 200, response has no usage`,
    ]);
  });

  it('a server that never answers is a timeout error, not a hang', async () => {
    const s = await serve(() => ({ hang: true }));
    const e = await llmFailure(
      new OpenAiProvider({ baseUrl: s.url, timeoutMs: 300 }).chat({ model: 'm', messages: msg('x'), maxTokens: 5 }),
    );
    expect(e.kind).toBe('timeout'); // (the server never answers: only the client's deadline ends the call)
  });

  it('a closed port is a network error', async () => {
    const s = await serve(() => ({ hang: true }));
    const url = s.url;
    await s.close();
    servers = [];
    expect(
      (await llmFailure(new OpenAiProvider({ baseUrl: url }).chat({ model: 'm', messages: msg('x'), maxTokens: 5 })))
        .kind,
    ).toBe('network');
  });
});

describe('Gemini generateContent', () => {
  it('puts the model in the path and the key in x-goog-api-key; usage: cached apart, thoughts billed as output', async () => {
    const s = await serve(() => ({
      json: wire.gemini('pong', { prompt: 50, candidates: 10, cached: 20, thoughts: 5 }),
    }));
    const r = await new GeminiProvider({ baseUrl: s.url, apiKey: 'AIza-secret' }).chat({
      model: 'gemini-2.5-flash',
      system: 'sys',
      messages: [...msg('ping'), { role: 'assistant', content: 'prev' }],
      maxTokens: 16,
    });
    expect(r).toMatchObject({ text: 'pong', model: 'gemini-2.5-flash', finishReason: 'stop', id: 'resp-1' });
    expect(r.usage).toMatchObject({ inputTokens: 30, cacheReadTokens: 20, outputTokens: 15, reasoningTokens: 5 });
    const req = s.requests[0]!;
    expect(req.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(req.url).not.toContain('key=');
    expect(req.headers['x-goog-api-key']).toBe('AIza-secret');
    expect(req.body).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'ping' }] },
        { role: 'model', parts: [{ text: 'prev' }] },
      ],
      systemInstruction: { parts: [{ text: 'sys' }] },
      generationConfig: { maxOutputTokens: 16 },
    });
  });

  it('maps RESOURCE_EXHAUSTED, UNAVAILABLE and a SAFETY block', async () => {
    const replies = [
      { status: 429, json: wire.geminiError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded') },
      { status: 503, json: wire.geminiError(503, 'UNAVAILABLE', 'The model is overloaded') },
      {
        json: {
          candidates: [{ finishReason: 'SAFETY', content: { parts: [] } }],
          usageMetadata: { promptTokenCount: 4 },
        },
      },
    ];
    const s = await serve((n) => replies[n]!);
    const p = new GeminiProvider({ baseUrl: s.url });
    const call = () => p.chat({ model: 'gemini-2.5-flash', messages: msg('x'), maxTokens: 5 });
    expect((await llmFailure(call())).kind).toBe('rate_limit');
    expect((await llmFailure(call())).kind).toBe('overloaded');
    expect((await llmFailure(call())).kind).toBe('content_policy');
  });

  it('streams with alt=sse; usage arrives on the last chunk', async () => {
    const part = (text: string, extra: object = {}) => ({
      candidates: [{ content: { role: 'model', parts: [{ text }] }, ...extra }],
      modelVersion: 'gemini-2.5-flash',
    });
    const events = wire.sse([
      { data: part('a') },
      {
        data: {
          ...part('b', { finishReason: 'STOP' }),
          usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 2 },
        },
      },
    ]);
    const s = await serve(() => ({ chunks: events }));
    const got: string[] = [];
    const r = await new GeminiProvider({ baseUrl: s.url }).chat({
      model: 'gemini-2.5-flash',
      messages: msg('x'),
      maxTokens: 5,
      onDelta: (t) => got.push(t),
    });
    expect(s.requests[0]!.url).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect([got, r.text, r.usage.inputTokens, r.usage.outputTokens]).toEqual([['a', 'b'], 'ab', 7, 2]);
  });
});

describe('Ollama /api/chat', () => {
  it('reads the NDJSON stream, eval counts as usage, a missing prompt_eval_count as 0', async () => {
    const s = await serve((n) => ({
      chunks: wire.ollama(['Hel', 'lo'], n === 0 ? { prompt: 26, evals: 3 } : { evals: 2 }),
    }));
    const p = new OllamaProvider({ baseUrl: s.url });
    const got: string[] = [];
    const r = await p.chat({
      model: 'llama3.1:8b',
      system: 's',
      messages: msg('hi'),
      maxTokens: 20,
      onDelta: (t) => got.push(t),
    });
    expect([r.text, r.model, r.usage.inputTokens, r.usage.outputTokens, got]).toEqual([
      'Hello',
      'llama3.1:8b',
      26,
      3,
      ['Hel', 'lo'],
    ]);
    expect(s.requests[0]!.url).toBe('/api/chat');
    expect(s.requests[0]!.body).toMatchObject({
      model: 'llama3.1:8b',
      stream: true,
      messages: [{ role: 'system', content: 's' }, ...msg('hi')],
      options: { num_predict: 20 },
    });
    const r2 = await p.chat({ model: 'llama3.1:8b', messages: msg('hi'), maxTokens: 20 });
    expect(r2.usage.inputTokens).toBe(0);
  });

  it('an error line, garbage and a stream without done:true are errors', async () => {
    const replies = [
      { chunks: [`${JSON.stringify({ error: 'model "nope" not found, try pulling it first' })}\n`] },
      { chunks: ['not json at all\n'] },
      { chunks: wire.ollama(['x']).slice(0, 1) },
      { status: 500, json: { error: 'llama runner process has terminated' } },
    ];
    const s = await serve((n) => replies[n]!);
    const p = new OllamaProvider({ baseUrl: s.url });
    const call = () => p.chat({ model: 'nope', messages: msg('x'), maxTokens: 5 });
    expect((await llmFailure(call())).kind).toBe('server');
    expect((await llmFailure(call())).kind).toBe('bad_response');
    expect((await llmFailure(call())).message).toMatch(/without done:true/);
    expect((await llmFailure(call())).kind).toBe('server');
  });
});

describe('exec provider', () => {
  it('renders the template word by word without a shell, feeds the vars on stdin', async () => {
    const p = new ExecProvider();
    const r = await p.chat({
      model: `node -e "process.stdout.write(process.argv[1] + ' ' + require('fs').readFileSync(0, 'utf8'))" {{payload.host}}`,
      messages: msg('x'),
      maxTokens: 0,
      vars: { payload: { host: 'db-1; rm -rf /' } },
    });
    expect(r.exitCode).toBe(0);
    expect(r.text.startsWith('db-1; rm -rf / {')).toBe(true);
    expect(JSON.parse(r.text.slice('db-1; rm -rf / '.length)).payload.host).toBe('db-1; rm -rf /');
  });

  it('a non-zero exit is an answer with finishReason error; a missing variable, a missing command and a timeout are errors', async () => {
    const p = createProvider('exec', { timeoutMs: 60_000 });
    const r = await p.chat({ model: "sh -c 'echo bad; exit 3'", messages: msg('x'), maxTokens: 0 });
    expect([r.finishReason, r.exitCode, r.text.trim()]).toEqual(['error', 3, 'bad']);
    expect(
      (
        await llmFailure(
          p.chat({ model: 'echo {{payload.host}}', messages: msg('x'), maxTokens: 0, vars: { payload: {} } }),
        )
      ).message,
    ).toMatch(/'payload.host' is missing/);
    expect((await llmFailure(p.chat({ model: 'no-such-command-xyz', messages: msg('x'), maxTokens: 0 }))).kind).toBe(
      'invalid_request',
    );
    const short = createProvider('exec', { timeoutMs: 300 }); // sleep 5 can only end by the deadline
    expect((await llmFailure(short.chat({ model: 'sleep 5', messages: msg('x'), maxTokens: 0 }))).kind).toBe('timeout');
  });
});

describe('errors name what was called', () => {
  it('an HTTP error carries method, URL and status, in info and in its one-line message, never the key', async () => {
    const replies = [
      { status: 401, json: wire.openaiError('Incorrect API key provided: sk-proj-***', 'invalid_request_error') },
      { status: 404, json: wire.openaiError('The model `gpt-9` does not exist', 'invalid_request_error') },
      { status: 502, text: '<html>\n<body>Bad gateway</body>\n</html>' },
    ];
    const s = await serve((n) => replies[n]!);
    const p = new OpenAiProvider({ baseUrl: s.url, apiKey: 'sk-proj-secret' });
    const call = () => p.chat({ model: 'gpt-9', messages: msg('hi'), maxTokens: 10 });
    const url = `${s.url}/v1/chat/completions`;
    const e401 = await llmFailure(call());
    expect(e401.info).toMatchObject({ method: 'POST', url, status: 401, provider: 'openai', model: 'gpt-9' });
    expect(e401.message).toBe(
      `openai POST ${url} → 401 invalid_request_error: Incorrect API key provided: sk-proj-***`,
    );
    const e404 = await llmFailure(call());
    expect([e404.kind, e404.info.status, e404.message]).toEqual([
      'invalid_request',
      404,
      `openai POST ${url} → 404 invalid_request_error: The model \`gpt-9\` does not exist`,
    ]);
    const e502 = await llmFailure(call());
    expect(e502.message).toBe(`openai POST ${url} → 502 <html> <body>Bad gateway</body> </html>`);
    for (const e of [e401, e404, e502]) expect(e.message).not.toMatch(/sk-proj-secret|\n/);
  });

  it('errors found in a 2xx body or stream name the URL and status too', async () => {
    const s = await serve((n) =>
      n === 0
        ? { text: 'garbage' }
        : { chunks: wire.sse([{ event: 'message_start', data: { type: 'message_start', message: { id: 'm' } } }]) },
    );
    const e1 = await llmFailure(
      new OpenAiProvider({ baseUrl: s.url, apiKey: 'k' }).chat({ model: 'm', messages: msg('x'), maxTokens: 5 }),
    );
    expect([e1.kind, e1.info.status, e1.info.url, e1.message]).toEqual([
      'bad_response',
      200,
      `${s.url}/v1/chat/completions`,
      `openai POST ${s.url}/v1/chat/completions → 200, response is not JSON: "garbage"`,
    ]);
    const e2 = await llmFailure(
      new AnthropicProvider({ baseUrl: s.url, apiKey: 'k' }).chat({
        model: 'm',
        messages: msg('x'),
        maxTokens: 5,
        onDelta: () => {},
      }),
    );
    expect([e2.kind, e2.info.url, e2.info.reason]).toEqual([
      'server',
      `${s.url}/v1/messages`,
      'stream ended without message_stop (truncated)',
    ]);
    expect(e2.message).toBe(`anthropic POST ${s.url}/v1/messages → 200, stream ended without message_stop (truncated)`);
  });

  it("Gemini's key stays in its header: no ?key= in the URL called nor in any error", async () => {
    const s = await serve(() => ({
      status: 403,
      json: wire.geminiError(403, 'PERMISSION_DENIED', 'API key not valid. Please pass a valid API key.'),
    }));
    const p = new GeminiProvider({ baseUrl: s.url, apiKey: 'AIza-secret' });
    const e = await llmFailure(p.chat({ model: 'gemini-2.5-flash', messages: msg('x'), maxTokens: 5 }));
    const plain = await llmFailure(
      p.chat({ model: 'gemini-2.5-flash', messages: msg('x'), maxTokens: 5, onDelta: () => {} }),
    );
    for (const r of s.requests) {
      expect(r.url).not.toMatch(/key=/);
      expect(r.headers['x-goog-api-key']).toBe('AIza-secret');
    }
    expect(s.requests.map((r) => r.url)).toEqual([
      '/v1beta/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    ]);
    for (const x of [e, plain]) {
      expect(x.kind).toBe('auth');
      expect(`${x.message} ${x.info.url}`).not.toMatch(/AIza-secret|key=/);
    }
    expect(plain.info.url).toBe(`${s.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`);
    // A base_url pasted with credentials or a key parameter is masked wherever a URL is shown.
    expect(safeUrl('https://me:pw@gw.example/v1beta?key=AIza-x&alt=sse')).toBe(
      'https://***@gw.example/v1beta?key=***&alt=sse',
    );
  });
});

describe('API keys', () => {
  it('apiKeyProblem names the key to set, for the providers that need one', () => {
    expect(apiKeyProblem('anthropic', {})).toBe(
      'no API key for anthropic: set ANTHROPIC_API_KEY (or [providers.anthropic] api_key_env / api_key in vapora.toml)',
    );
    expect(apiKeyProblem('openai', { apiKey: '' })).toMatch(/^no API key for openai: set OPENAI_API_KEY /);
    expect(apiKeyProblem('gemini', { keyEnv: 'MY_GEMINI' })).toBe(
      'no API key for gemini: set MY_GEMINI (named by [providers.gemini] api_key_env), or api_key in vapora.toml',
    );
    expect(apiKeyProblem('openai', { apiKey: 'sk-x' })).toBeUndefined();
    expect(apiKeyProblem('ollama', {})).toBeUndefined();
    expect(apiKeyProblem('exec', {})).toBeUndefined();
    // The provider's own API needs one however its URL is spelled; a gateway or a local server decides itself.
    expect(apiKeyProblem('openai', { baseUrl: 'https://api.openai.com/v1/' })).toMatch(/OPENAI_API_KEY/);
    expect(apiKeyProblem('openai', { baseUrl: 'http://127.0.0.1:8000/v1' })).toBeUndefined();
  });

  it('an adapter without a key for its own API fails with that message before any request', async () => {
    for (const [p, env] of [
      [new AnthropicProvider(), 'ANTHROPIC_API_KEY'],
      [new OpenAiProvider({ baseUrl: 'https://api.openai.com/v1' }), 'OPENAI_API_KEY'],
      [new GeminiProvider({ keyEnv: 'MY_GEMINI' }), 'MY_GEMINI'],
      [createProvider('openai', { apiKey: '  ' }), 'OPENAI_API_KEY'],
    ] as const) {
      const e = await llmFailure(p.chat({ model: 'm', messages: msg('x'), maxTokens: 5 }));
      expect([e.kind, e.action, e.info.url, e.info.status]).toEqual(['auth', 'fail', undefined, undefined]);
      expect(e.message).toBe(apiKeyProblem(p.name, { keyEnv: env }));
    }
  });

  it('at a custom base_url a key is optional: sent without one, a 401 says none was sent', async () => {
    const s = await serve((n) =>
      n === 0 ? { json: wire.openai('ok') } : { status: 401, json: wire.openaiError('Missing bearer token') },
    );
    const p = new OpenAiProvider({ baseUrl: s.url });
    expect((await p.chat({ model: 'm', messages: msg('x'), maxTokens: 5 })).text).toBe('ok');
    expect(s.requests[0]!.headers.authorization).toBeUndefined();
    const e = await llmFailure(p.chat({ model: 'm', messages: msg('x'), maxTokens: 5 }));
    expect(e.message).toBe(
      `openai POST ${s.url}/v1/chat/completions → 401 invalid_request_error: Missing bearer token (no API key was sent: set OPENAI_API_KEY (or [providers.openai] api_key_env / api_key in vapora.toml))`,
    );
  });
});

describe('base_url spellings', () => {
  it('with or without /v1, a trailing slash or the whole endpoint: one path, never /v1/v1', async () => {
    const s = await serve((_n, r) =>
      r.url.endsWith('/messages')
        ? { json: wire.anthropic('a') }
        : r.url.endsWith('/api/chat')
          ? { chunks: wire.ollama(['o']) }
          : r.url.includes(':generateContent')
            ? { json: wire.gemini('g') }
            : { json: wire.openai('o') },
    );
    const ask = (p: { chat: OpenAiProvider['chat'] }) => p.chat({ model: 'm', messages: msg('x'), maxTokens: 5 });
    for (const base of [s.url, `${s.url}/`, `${s.url}/v1`, `${s.url}/v1/`, `${s.url}/v1/chat/completions`])
      await ask(new OpenAiProvider({ baseUrl: base, apiKey: 'k' }));
    await ask(new OpenAiProvider({ baseUrl: `${s.url}/gateway/openai/v1`, apiKey: 'k' }));
    for (const base of [`${s.url}/v1`, `${s.url}/v1/messages/`])
      await ask(new AnthropicProvider({ baseUrl: base, apiKey: 'k' }));
    for (const base of [`${s.url}/api`, `${s.url}/api/chat`, `${s.url}/v1`])
      await ask(new OllamaProvider({ baseUrl: base }));
    await ask(new GeminiProvider({ baseUrl: `${s.url}/v1beta/`, apiKey: 'k' }));
    expect(s.requests.map((r) => r.url)).toEqual([
      ...Array(5).fill('/v1/chat/completions'),
      '/gateway/openai/v1/chat/completions',
      '/v1/messages',
      '/v1/messages',
      '/api/chat',
      '/api/chat',
      '/api/chat',
      '/v1beta/models/m:generateContent',
    ]);
  });
});
