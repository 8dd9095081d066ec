import { type ChatRequest, type ChatResponse, LlmError } from '../../core/llm/types.js';

/** After output reached the caller, an error must say so: the router then neither retries nor falls back. */
export function partial(e: unknown, emitted: boolean): unknown {
  if (!emitted || !(e instanceof LlmError)) return e;
  return new LlmError(e.kind, `${e.message} (after partial output)`, { ...e.info, partial: true });
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
