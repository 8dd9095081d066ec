import { type ChatRequest, type ChatResponse, LlmError } from '../../core/llm/types.js';

export type ProviderKind = 'anthropic' | 'openai' | 'gemini' | 'ollama' | 'exec';

/** The environment variable each provider's key is read from by default. */
export const KEY_ENV: Record<ProviderKind, string | undefined> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  gemini: 'GEMINI_API_KEY',
  ollama: undefined,
  exec: undefined,
};

/** The providers' own APIs: a key is required there (a gateway or a local server at another base_url decides). */
export const DEFAULT_BASE_URL: Record<Exclude<ProviderKind, 'exec'>, string> = {
  anthropic: 'https://api.anthropic.com',
  openai: 'https://api.openai.com',
  gemini: 'https://generativelanguage.googleapis.com',
  ollama: 'http://127.0.0.1:11434',
};

export interface KeySource {
  /** The key itself (from api_key or the environment); empty means none. */
  apiKey?: string | undefined;
  /** The environment variable it was read from (default: KEY_ENV[provider]). */
  keyEnv?: string | undefined;
  /** The configured base_url, if any: at another host than the provider's own API a key is optional. */
  baseUrl?: string | undefined;
}

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
};

/** What to do about a missing key: `set OPENAI_API_KEY (or [providers.openai] api_key_env / api_key in vapora.toml)`. */
export function keyHint(provider: string, keyEnv?: string): string {
  const dflt = KEY_ENV[provider as ProviderKind];
  const env = keyEnv || dflt;
  if (!env) return `set [providers.${provider}] api_key in vapora.toml`;
  if (env !== dflt) return `set ${env} (named by [providers.${provider}] api_key_env), or api_key in vapora.toml`;
  return `set ${env} (or [providers.${provider}] api_key_env / api_key in vapora.toml)`;
}

/**
 * Why a provider cannot be called for lack of an API key, or undefined when it can: ollama and exec need none, and
 * neither does a base_url at another host than the provider's own API (a local server or a gateway: it answers 401
 * itself if it wants one). Pure: the caller reads the key from wherever it comes from.
 *
 *   apiKeyProblem('anthropic', { apiKey: process.env.ANTHROPIC_API_KEY })
 *   // → 'no API key for anthropic: set ANTHROPIC_API_KEY (or [providers.anthropic] api_key_env / api_key in vapora.toml)'
 */
export function apiKeyProblem(provider: string, o: KeySource = {}): string | undefined {
  if (o.apiKey?.trim()) return undefined;
  if (!KEY_ENV[provider as ProviderKind]) return undefined;
  const own = DEFAULT_BASE_URL[provider as Exclude<ProviderKind, 'exec'>];
  const base = o.baseUrl?.trim();
  if (base && hostOf(base) !== undefined && hostOf(base) !== hostOf(own)) return undefined;
  return `no API key for ${provider}: ${keyHint(provider, o.keyEnv)}`;
}

/** An adapter's key check, made once: the error its calls throw before touching the network, if any. */
export function keyCheck(provider: string, o: KeySource): { problem?: string; missing?: string } {
  const problem = apiKeyProblem(provider, o);
  if (problem) return { problem };
  // No key but not required (a custom base_url): a 401 from there will say that none was sent.
  if (!o.apiKey?.trim() && KEY_ENV[provider as ProviderKind]) return { missing: keyHint(provider, o.keyEnv) };
  return {};
}

/** The auth error of a call made without a required key (no request is sent). */
export const noKeyError = (provider: string, req: Pick<ChatRequest, 'model'>, problem: string): LlmError =>
  new LlmError('auth', problem, { provider, model: req.model, reason: problem });

/** After output reached the caller, an error must say so: the router then neither retries nor falls back. */
export function partial(e: unknown, emitted: boolean): unknown {
  if (!emitted || !(e instanceof LlmError)) return e;
  const reason = e.info.reason === undefined ? undefined : `${e.info.reason} (after partial output)`;
  return new LlmError(e.kind, `${e.message} (after partial output)`, { ...e.info, reason, partial: true });
}

/** A stream that ended before its end marker: a server error (partial when text already went out). */
export function truncated(provider: string, req: ChatRequest, marker: string, emitted: boolean): unknown {
  const e = new LlmError('server', `${provider}: stream ended without ${marker} (truncated)`, {
    provider,
    model: req.model,
  });
  return partial(e, emitted);
}

/** A refusal is an error of kind content_policy (fail fast), not an empty answer. */
export function finish(provider: string, req: ChatRequest, r: ChatResponse): ChatResponse {
  if (r.finishReason === 'content_filter' && !r.text) {
    throw new LlmError('content_policy', `${provider}: the model refused (${r.finishRaw ?? 'content_filter'})`, {
      provider,
      model: req.model,
    });
  }
  return r;
}

/**
 * Reads a streamed answer: `step` looks at each chunk, hands out the text it carries through `emit` (passed on to
 * `onDelta` at once) and returns true at the end marker (reading stops). An error after text went out is partial
 * (the router neither retries nor falls back); a stream that stops before it is `complete` (default: the end marker
 * was seen) is truncated. Returns the whole text.
 */
export async function collectText<C>(
  chunks: AsyncIterable<C>,
  o: {
    provider: string;
    req: ChatRequest;
    /** What a complete stream ends with, for the truncation error. */
    marker: string;
    onDelta?: ((t: string) => void) | undefined;
    complete?: () => boolean;
  },
  step: (chunk: C, emit: (t: string) => void) => boolean | undefined,
): Promise<string> {
  let text = '';
  let emitted = false;
  let done = false;
  const emit = (t: string): void => {
    if (!t) return;
    text += t;
    if (o.onDelta) {
      emitted = true;
      o.onDelta(t);
    }
  };
  try {
    for await (const c of chunks) {
      if (step(c, emit)) {
        done = true;
        break;
      }
    }
  } catch (e) {
    throw partial(e, emitted);
  }
  if (!(o.complete ? o.complete() : done)) throw truncated(o.provider, o.req, o.marker, emitted);
  return text;
}
