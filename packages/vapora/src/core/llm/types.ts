/**
 * The provider layer's contract, shared by vapora's router and typedialog's agents
 * (`@stratumiops/vapora/client/llm`). No SDKs: each adapter speaks its provider's HTTP wire format.
 */

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  system?: string | undefined;
  /** Output cap sent to the provider; also what a budget reserves. */
  maxTokens: number;
  temperature?: number | undefined;
  stop?: string[] | undefined;
  /** Ask for a JSON object (OpenAI json_object, Gemini responseMimeType, Ollama format). */
  json?: boolean | undefined;
  /** Streams: each text delta is passed here as it arrives. */
  onDelta?: ((text: string) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Overrides the provider's timeout for this call (whole call: headers and body). */
  timeoutMs?: number | undefined;
  /** Template variables (the exec provider fills `{{payload.host}}` from these). */
  vars?: Record<string, unknown> | undefined;
}

/** Normalised usage (notes §2.5): inputTokens excludes cached input, which is counted apart. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

export const zeroUsage = (): Usage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});

export interface ChatResponse {
  text: string;
  /** The model that actually served (response `model` / `modelVersion`), which is the one priced. */
  model: string;
  usage: Usage;
  /** Normalised: stop | length | tool_use | content_filter | error | other (raw value in finishRaw). */
  finishReason: string;
  finishRaw?: string | undefined;
  id?: string | undefined;
  /** exec provider: the command's exit code. */
  exitCode?: number | undefined;
}

export interface LlmProvider {
  readonly name: string;
  chat(req: ChatRequest): Promise<ChatResponse>;
}

export const ERROR_KINDS = [
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'network',
  'bad_response',
  'context_window',
  'content_policy',
  'auth',
  'invalid_request',
] as const;
export type LlmErrorKind = (typeof ERROR_KINDS)[number];

/** What the router does with each kind: retry the same target (then next), go to the next target, or stop. */
export type ErrorAction = 'retry' | 'next' | 'fail';

/**
 * The action table. Retries use jittered exponential backoff and honour Retry-After; after the last retry the
 * router moves down the fallback chain. Garbage and context-window errors skip retries (the same request would
 * fail the same way). Content policy, auth and invalid requests fail fast: another model would hide a
 * configuration error or a refusal the caller must see.
 */
export const ERROR_ACTIONS: Record<LlmErrorKind, ErrorAction> = {
  rate_limit: 'retry',
  overloaded: 'retry',
  server: 'retry',
  timeout: 'retry',
  network: 'retry',
  bad_response: 'next',
  context_window: 'next',
  content_policy: 'fail',
  auth: 'fail',
  invalid_request: 'fail',
};

/**
 * One try of one target by the router, as data: what was called (method and URL for HTTP providers, never a key),
 * the HTTP status if there was one, and the outcome with its reason. A failed call carries the list (LlmError and
 * BudgetExceededError `.attempts`), so that an error says everything that was tried.
 */
export interface Attempt {
  /** `provider:model` */
  target: string;
  /** `ok`, the error kind, `budget` (no room to reserve) or `unpriced`. */
  outcome: 'ok' | LlmErrorKind | 'budget' | 'unpriced';
  /** HTTP method and URL called (HTTP providers only). */
  method?: string | undefined;
  url?: string | undefined;
  /** HTTP status, when the provider answered one. */
  status?: number | undefined;
  /** Why it failed, short (the provider's own error text, `ECONNREFUSED`, `no API key for …`). */
  reason?: string | undefined;
  /** The whole error message. */
  message?: string | undefined;
  /** Not called at all (no API key, no room in the budget). */
  skipped?: boolean | undefined;
  costMicrocents: number;
}

export interface LlmErrorInfo {
  provider?: string | undefined;
  model?: string | undefined;
  /** HTTP method and URL called (never with a key in it). */
  method?: string | undefined;
  url?: string | undefined;
  status?: number | undefined;
  /** The failure in a few words, without the provider/URL prefix of the message. */
  reason?: string | undefined;
  /** From Retry-After / retry-after-ms. */
  retryAfterMs?: number | undefined;
  requestId?: string | undefined;
  /** Output already reached the caller (streaming): never retried or replayed elsewhere. */
  partial?: boolean | undefined;
}

export class LlmError extends Error {
  override readonly name = 'LlmError';
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly info: LlmErrorInfo = {},
    /** Set by the router on the error it throws: every attempt of the call, in order. */
    readonly attempts?: Attempt[] | undefined,
  ) {
    super(message);
  }

  get action(): ErrorAction {
    return ERROR_ACTIONS[this.kind];
  }
}

export const isLlmError = (e: unknown): e is LlmError => e instanceof LlmError;
