import { LlmError, type LlmErrorKind } from '../../core/llm/types.js';

export interface ProviderOptions {
  /** Base URL of the API, e.g. https://api.anthropic.com (tests point this at a local server). */
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  /** The environment variable the key was meant to come from: named in the error when there is no key. */
  keyEnv?: string | undefined;
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
  /** Set when the call carries no API key (a custom base_url may not need one): added to a 401/403's message. */
  keyMissing?: string | undefined;
  /** Set by post() once the provider answered 2xx: later errors about the body name it. */
  status?: number | undefined;
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

/** One line (error bodies can be HTML pages), at most n characters. */
const clip = (s: string, n = 300) => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n)}…` : one;
};

/**
 * A URL as it may be shown: keys go in headers, never in URLs, but a base_url pasted with `user:pass@` or a
 * `?key=` (Gemini's old style) must not reach a message or a log either.
 */
export const safeUrl = (url: string): string =>
  url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@')
    .replace(/([?&][^=&#]*(?:key|token|secret|sig|auth)[^=&#]*=)[^&#]*/gi, '$1***');

/** `openai POST http://127.0.0.1:4000/v1/chat/completions`: what every HTTP error message starts with. */
export const where = (call: Pick<HttpCall, 'provider' | 'url'>): string => `${call.provider} POST ${safeUrl(call.url)}`;

/** The LlmError info of a call: provider, model, method and URL (never with a key in it). */
const infoOf = (call: Pick<HttpCall, 'provider' | 'model' | 'url'>) => ({
  provider: call.provider,
  model: call.model,
  method: 'POST',
  url: safeUrl(call.url),
});

/** An LlmError about a call: `<provider> POST <url> → [status ]reason`, the reason kept apart in info. */
function callError(
  kind: LlmErrorKind,
  call: Pick<HttpCall, 'provider' | 'model' | 'url' | 'status'>,
  reason: string,
  extra: { status?: number | undefined; retryAfterMs?: number | undefined; requestId?: string | undefined } = {},
): LlmError {
  const code = extra.status ?? call.status;
  const status = code === undefined ? '' : code < 300 ? `${code}, ` : `${code} `;
  return new LlmError(kind, `${where(call)} → ${status}${reason}`, { ...infoOf(call), ...extra, status: code, reason });
}

/**
 * Errors raised by an adapter's own checks (stream error events, truncation, refusals) get the call's method and
 * URL, and a message naming them, like the errors of post()/readJson(). Errors that already have a URL pass.
 */
export function located(e: unknown, call: Pick<HttpCall, 'provider' | 'model' | 'url' | 'status'>): unknown {
  if (!(e instanceof LlmError) || e.info.url) return e;
  const reason = e.info.reason ?? e.message.replace(new RegExp(`^${call.provider}:? `), '');
  const code = e.info.status ?? call.status;
  const status = code === undefined ? '' : code < 300 ? `${code}, ` : `${code} `;
  return new LlmError(
    e.kind,
    `${where(call)} → ${status}${reason}`,
    { ...e.info, ...infoOf(call), status: code, reason },
    e.attempts,
  );
}

/** Runs an adapter's call, locating whatever LlmError comes out of it (see located). */
export async function locate<T>(
  call: Pick<HttpCall, 'provider' | 'model' | 'url' | 'status'>,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw located(e, call);
  }
}

/**
 * The base of an API from a configured base_url: the part before the API's own path, so that `…/v1`,
 * `…/v1/` and even the full endpoint URL work as well as the bare origin (no `/v1/v1/chat/completions`).
 * `suffixes` are tried longest first, e.g. ['/v1/chat/completions', '/v1'].
 */
export function apiBase(baseUrl: string | undefined, fallback: string, suffixes: string[]): string {
  let b = trimSlash(baseUrl?.trim() || fallback);
  for (const suffix of suffixes) {
    if (b.toLowerCase().endsWith(suffix.toLowerCase())) {
      b = trimSlash(b.slice(0, b.length - suffix.length));
      break;
    }
  }
  return b;
}

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
    throw netError(e, timedOut, call);
  }
  if (res.ok) {
    call.status = res.status;
    return { res, deadline, timedOut: () => timedOut, done };
  }
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    done();
    throw netError(e, timedOut, call, { status: res.status });
  }
  done();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {}
  const { type, message } = errorOf(body);
  const kind = classify(res.status, type, message || text);
  const requestId = res.headers.get('request-id') ?? res.headers.get('x-request-id') ?? undefined;
  let reason = clip(message || text || res.statusText || 'no error message');
  // A 401/403 to a call that carried no key: say so (a gateway at a custom base_url that wanted one after all).
  if (kind === 'auth' && call.keyMissing) reason += ` (no API key was sent: ${call.keyMissing})`;
  throw callError(kind, call, `${type ? `${type}: ` : ''}${reason}`, {
    status: res.status,
    retryAfterMs: retryAfterMs(res.headers),
    requestId,
  });
}

export function netError(
  e: unknown,
  timedOut: boolean,
  call: Pick<HttpCall, 'provider' | 'model' | 'url' | 'timeoutMs'>,
  info: { status?: number | undefined } = {},
): LlmError {
  if (e instanceof LlmError) return e;
  const extra = { status: info.status };
  if (timedOut) return callError('timeout', call, `no complete answer within ${call.timeoutMs} ms`, extra);
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'AbortError') return callError('timeout', call, 'call aborted', extra);
  const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
  return callError('network', call, clip(cause), extra);
}

/** Reads the whole body as JSON under the call's deadline; anything else is a bad_response. */
export async function readJson(live: Live, call: HttpCall): Promise<unknown> {
  const info = { status: live.res.status };
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
    throw callError('bad_response', call, `response is not JSON: ${clip(JSON.stringify(text), 120)}`, info);
  }
}

/**
 * Lines of a streamed body (SSE or NDJSON), under the call's deadline. A body cut by the network or the
 * deadline throws (timeout/network); the caller decides whether the stream ended properly.
 */
export async function* lines(live: Live, call: HttpCall): AsyncGenerator<string> {
  const info = { status: live.res.status };
  const body = live.res.body;
  if (!body) throw callError('bad_response', call, 'empty stream', info);
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
    throw callError('bad_response', call, `stream chunk is not JSON: ${clip(JSON.stringify(data), 120)}`);
  }
}

/** Throws bad_response unless `ok`; for the shape checks of a 2xx body. */
export function expect(ok: unknown, call: HttpCall, what: string): asserts ok {
  if (!ok) throw callError('bad_response', call, what);
}

export const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

export const trimSlash = (s: string) => s.replace(/\/+$/, '');
