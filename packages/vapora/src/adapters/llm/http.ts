import { LlmError, type LlmErrorKind } from '../../core/llm/types.js';

export interface ProviderOptions {
  /** Base URL of the API, e.g. https://api.anthropic.com (tests point this at a local server). */
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  timeoutMs?: number | undefined;
  /** Extra headers (gateways); never logged. */
  headers?: Record<string, string> | undefined;
}

export interface HttpCall {
  provider: string;
  model: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** A live call: the response plus the abort/timeout handles, so the body can be read under the same deadline. */
export interface Live {
  res: Response;
  deadline: AbortController;
  timedOut: () => boolean;
  done: () => void;
}

const CONTEXT_RE =
  /context[ _-]?(length|window)|maximum context|prompt is too long|too many tokens|exceeds the (maximum|max)|input is too long|request_too_large/i;
const POLICY_RE = /content[ _-]?(policy|filter|management)|safety|blocked|moderation|refus/i;

/** Seconds or an HTTP date (Retry-After), or milliseconds (retry-after-ms, OpenAI). */
export function retryAfterMs(h: Headers, now = Date.now()): number | undefined {
  const ms = h.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const ra = h.get('retry-after');
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Math.round(Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Error kind from the status and the provider's error type/message. */
export function classify(status: number, errorType: string, message: string): LlmErrorKind {
  const t = errorType.toLowerCase();
  if (status === 429 || t === 'rate_limit_error' || t === 'resource_exhausted') return 'rate_limit';
  if (status === 529 || status === 503 || t === 'overloaded_error' || t === 'unavailable') return 'overloaded';
  if (status === 401 || status === 403 || t === 'authentication_error' || t === 'permission_error') return 'auth';
  if (status === 408 || status === 504 || t === 'deadline_exceeded') return 'timeout';
  if (status === 413 || CONTEXT_RE.test(message) || CONTEXT_RE.test(t)) return 'context_window';
  if (POLICY_RE.test(t) || (status === 400 && POLICY_RE.test(message))) return 'content_policy';
  if (status >= 500) return 'server';
  return 'invalid_request';
}

/** The message and type out of the usual error bodies: {error:{type,message}} (Anthropic, OpenAI), Gemini's status. */
function errorOf(body: unknown): { type: string; message: string } {
  const b = body as { error?: unknown; type?: unknown; message?: unknown } | null;
  if (b && typeof b === 'object') {
    const e = b.error;
    if (typeof e === 'string') return { type: '', message: e };
    if (e && typeof e === 'object') {
      const o = e as { type?: unknown; status?: unknown; code?: unknown; message?: unknown };
      const type = typeof o.type === 'string' ? o.type : typeof o.status === 'string' ? o.status : String(o.code ?? '');
      return { type, message: typeof o.message === 'string' ? o.message : '' };
    }
    if (typeof b.message === 'string') return { type: typeof b.type === 'string' ? b.type : '', message: b.message };
  }
  return { type: '', message: '' };
}

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** POST JSON and return the live response (2xx only); errors become LlmErrors with a kind. */
export async function post(call: HttpCall): Promise<Live> {
  const deadline = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort();
  }, call.timeoutMs);
  const onAbort = () => deadline.abort();
  call.signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => {
    clearTimeout(timer);
    call.signal?.removeEventListener('abort', onAbort);
  };
  const info = { provider: call.provider, model: call.model };
  let res: Response;
  try {
    res = await fetch(call.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...call.headers },
      body: JSON.stringify(call.body),
      signal: deadline.signal,
    });
  } catch (e) {
    done();
    throw netError(e, timedOut, call, info);
  }
  if (res.ok) return { res, deadline, timedOut: () => timedOut, done };
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    done();
    throw netError(e, timedOut, call, info);
  }
  done();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {}
  const { type, message } = errorOf(body);
  const kind = classify(res.status, type, message || text);
  const requestId = res.headers.get('request-id') ?? res.headers.get('x-request-id') ?? undefined;
  throw new LlmError(
    kind,
    `${call.provider} ${res.status}${type ? ` ${type}` : ''}: ${clip(message || text || res.statusText)}`,
    {
      ...info,
      status: res.status,
      retryAfterMs: retryAfterMs(res.headers),
      requestId,
    },
  );
}

export function netError(
  e: unknown,
  timedOut: boolean,
  call: { timeoutMs: number; provider: string },
  info: object,
): LlmError {
  if (e instanceof LlmError) return e;
  if (timedOut)
    return new LlmError('timeout', `${call.provider}: no complete answer within ${call.timeoutMs} ms`, info);
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'AbortError') return new LlmError('timeout', `${call.provider}: call aborted`, info);
  const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
  return new LlmError('network', `${call.provider}: ${cause}`, info);
}

/** Reads the whole body as JSON under the call's deadline; anything else is a bad_response. */
export async function readJson(live: Live, call: HttpCall): Promise<unknown> {
  const info = { provider: call.provider, model: call.model, status: live.res.status };
  let text: string;
  try {
    text = await live.res.text();
  } catch (e) {
    throw netError(e, live.timedOut(), call, info);
  } finally {
    live.done();
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new LlmError(
      'bad_response',
      `${call.provider}: response is not JSON: ${clip(JSON.stringify(text), 120)}`,
      info,
    );
  }
}

/**
 * Lines of a streamed body (SSE or NDJSON), under the call's deadline. A body cut by the network or the
 * deadline throws (timeout/network); the caller decides whether the stream ended properly.
 */
export async function* lines(live: Live, call: HttpCall): AsyncGenerator<string> {
  const info = { provider: call.provider, model: call.model, status: live.res.status };
  const body = live.res.body;
  if (!body) throw new LlmError('bad_response', `${call.provider}: empty stream`, info);
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        yield buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
    }
    buf += decoder.decode();
    if (buf) yield buf;
  } catch (e) {
    throw netError(e, live.timedOut(), call, info);
  } finally {
    live.done();
  }
}

/** Server-sent events: `event:` and `data:` lines, blank line ends an event. */
export async function* sse(live: Live, call: HttpCall): AsyncGenerator<{ event: string; data: string }> {
  let event = '';
  let data: string[] = [];
  for await (const line of lines(live, call)) {
    if (line === '') {
      if (data.length > 0) yield { event, data: data.join('\n') };
      event = '';
      data = [];
    } else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length > 0) yield { event, data: data.join('\n') };
}

export function parseChunk(data: string, call: HttpCall): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new LlmError(
      'bad_response',
      `${call.provider}: stream chunk is not JSON: ${clip(JSON.stringify(data), 120)}`,
      {
        provider: call.provider,
        model: call.model,
      },
    );
  }
}

/** Throws bad_response unless `ok`; for the shape checks of a 2xx body. */
export function expect(ok: unknown, call: HttpCall, what: string): asserts ok {
  if (!ok)
    throw new LlmError('bad_response', `${call.provider}: ${what}`, { provider: call.provider, model: call.model });
}

export const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

export const trimSlash = (s: string) => s.replace(/\/+$/, '');
