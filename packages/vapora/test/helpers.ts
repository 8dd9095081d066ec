import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDriver } from '@stratumiops/shared/sql/sqlite';
import { afterAll, expect } from 'vitest';
import { binPath } from '../../../test/run-bin.js';
import { sqlStore } from '../src/adapters/sql/index.js';
import type { TaskResult } from '../src/core/bus.js';
import { LlmError } from '../src/core/llm/types.js';
import type { Store } from '../src/core/store.js';
import { type Served, serve } from '../src/server/main.js';
import { configSchema, type VaporaConfig } from '../src/tool.js';

export const tempDir = (prefix = 'vapora-test-') => mkdtempSync(join(tmpdir(), prefix));
export const removeDir = (d: string) => rmSync(d, { recursive: true, force: true });

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

/** A full config from a partial one, through the real schema (defaults included). */
export function config(partial: DeepPartial<VaporaConfig> = {}): VaporaConfig {
  return configSchema.parse(partial);
}

/** Closers run after the file's tests, the last added first (their errors ignored). */
export function cleanupsAfterAll(): (() => Promise<unknown>)[] {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });
  return cleanups;
}

/** `vapora serve` in this process on a free loopback port, dispatching every 50 ms; closed by `cleanups`. */
export async function serveOnLoopback(cfg: VaporaConfig, cleanups: (() => Promise<unknown>)[]): Promise<Served> {
  const s = await serve({ config: cfg, host: '127.0.0.1', port: 0, coordinatorMs: { dispatch: 50, sweep: 60_000 } });
  cleanups.push(() => s.close());
  return s;
}

/** The LlmError a call fails with (the test fails if it succeeds or throws anything else). */
export async function llmFailure(p: Promise<unknown>): Promise<LlmError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LlmError);
    return e as LlmError;
  }
  throw new Error('expected an LlmError');
}

/** An exec agent's result (no tokens, no cost, first delivery) with these fields. */
export const execResult = (
  r: Pick<
    TaskResult,
    | 'task_id'
    | 'assignment_id'
    | 'agent_id'
    | 'agent_role'
    | 'task_type'
    | 'status'
    | 'output'
    | 'started_at'
    | 'duration_ms'
    | 'model'
  >,
): TaskResult => ({
  error: null,
  tokens_used: 0,
  input_tokens: 0,
  output_tokens: 0,
  cost_microcents: 0,
  cost_cents: 0,
  provider: 'exec',
  fallbacks: [],
  budget_exceeded: false,
  needs_approval: false,
  deliveries: 1,
  ...r,
});

export async function sqliteStore(dir = tempDir()): Promise<Store> {
  const s = sqlStore(new SqliteDriver(join(dir, 'vapora.db')));
  await s.migrate();
  return s;
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** What the fake answers for one request: JSON, raw text, a stream of chunks, or nothing at all (hang). */
export type Reply =
  | { status?: number; json: unknown; headers?: Record<string, string>; delayMs?: number }
  | { status?: number; text: string; headers?: Record<string, string> }
  | { status?: number; chunks: string[]; headers?: Record<string, string>; gapMs?: number; cut?: boolean }
  | { hang: true };

export interface FakeServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/**
 * A local node:http server that answers with what `script` returns for the n-th request (0-based): the tests
 * speak each provider's real wire format through it, and our adapters talk real HTTP to it.
 */
export async function fakeServer(script: (n: number, req: Recorded) => Reply): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      const n = requests.length;
      requests.push(rec);
      const r = script(n, rec);
      open.add(res);
      res.on('close', () => open.delete(res));
      if ('hang' in r) return;
      if ('json' in r) {
        const send = () => {
          res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
          res.end(JSON.stringify(r.json));
        };
        if (r.delayMs) setTimeout(send, r.delayMs);
        else send();
        return;
      }
      if ('text' in r) {
        res.writeHead(r.status ?? 200, { 'content-type': 'text/plain', ...r.headers });
        res.end(r.text);
        return;
      }
      res.writeHead(r.status ?? 200, { 'content-type': 'text/event-stream', ...r.headers });
      let i = 0;
      const next = () => {
        if (i < r.chunks.length) {
          res.write(r.chunks[i++]);
          setTimeout(next, r.gapMs ?? 1);
        } else if (r.cut) res.destroy();
        else res.end();
      };
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of open) r.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Provider responses in their real shapes. */
export const wire = {
  anthropic: (
    text: string,
    o: { model?: string; input?: number; output?: number; cacheRead?: number; cacheWrite?: number } = {},
  ) => ({
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: o.model ?? 'claude-sonnet-4-6',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: o.input ?? 12,
      output_tokens: o.output ?? 7,
      cache_creation_input_tokens: o.cacheWrite ?? 0,
      cache_read_input_tokens: o.cacheRead ?? 0,
    },
  }),
  anthropicError: (type: string, message: string) => ({ type: 'error', error: { type, message } }),
  openai: (text: string, o: { model?: string; prompt?: number; completion?: number; cached?: number } = {}) => ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_764_000_000,
    model: o.model ?? 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: o.prompt ?? 20,
      completion_tokens: o.completion ?? 5,
      total_tokens: (o.prompt ?? 20) + (o.completion ?? 5),
      prompt_tokens_details: { cached_tokens: o.cached ?? 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  }),
  openaiError: (message: string, type = 'invalid_request_error', code: string | null = null) => ({
    error: { message, type, param: null, code },
  }),
  gemini: (text: string, o: { prompt?: number; candidates?: number; cached?: number; thoughts?: number } = {}) => ({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: {
      promptTokenCount: o.prompt ?? 30,
      candidatesTokenCount: o.candidates ?? 9,
      totalTokenCount: (o.prompt ?? 30) + (o.candidates ?? 9) + (o.thoughts ?? 0),
      ...(o.cached ? { cachedContentTokenCount: o.cached } : {}),
      ...(o.thoughts ? { thoughtsTokenCount: o.thoughts } : {}),
    },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-1',
  }),
  geminiError: (code: number, status: string, message: string) => ({ error: { code, message, status } }),
  /** NDJSON lines of /api/chat. */
  ollama: (parts: string[], o: { prompt?: number; evals?: number; model?: string } = {}) => [
    ...parts.map(
      (p) =>
        `${JSON.stringify({ model: o.model ?? 'llama3.1:8b', created_at: '2026-11-22T10:00:00Z', message: { role: 'assistant', content: p }, done: false })}\n`,
    ),
    `${JSON.stringify({
      model: o.model ?? 'llama3.1:8b',
      created_at: '2026-11-22T10:00:01Z',
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
      total_duration: 1_000_000,
      load_duration: 10_000,
      ...(o.prompt === undefined ? {} : { prompt_eval_count: o.prompt }),
      prompt_eval_duration: 100,
      eval_count: o.evals ?? 4,
      eval_duration: 1000,
    })}\n`,
  ],
  sse: (events: { event?: string; data: unknown }[]) =>
    events.map(
      (e) =>
        `${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`,
    ),
};

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 30_000, // an upper bound for a loaded machine, not an expectation
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `vapora serve` as a child process, as a user runs it; resolves once it says where it listens. */
export async function startServe(
  cwd: string,
  env: NodeJS.ProcessEnv,
  args: string[] = ['--port', '0'],
): Promise<{ url: string; proc: ChildProcess; stderr: () => string; stop(signal?: NodeJS.Signals): Promise<void> }> {
  const proc = spawn(process.execPath, [binPath('vapora'), 'serve', ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stdout?.resume();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vapora serve did not start: ${err}`)), 30_000);
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /vapora serving on (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vapora serve exited ${code}: ${err}`));
    });
  });
  return {
    url,
    proc,
    stderr: () => err,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}
