import { type ChatRequest, type ChatResponse, LlmError, zeroUsage } from '../../core/llm/types.js';
import { KeyedHttpProvider } from './base.js';
import { apiBase, expect, type HttpCall, int, type ProviderOptions, parseChunk, post, readJson, sse } from './http.js';
import { collectText, DEFAULT_BASE_URL, finish } from './shared.js';

const FINISH: Record<string, string> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'content_filter',
};

interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/**
 * OpenAI Chat Completions: POST /v1/chat/completions with a bearer key. The same shape is served by OpenRouter,
 * Ollama's /v1 and most gateways (set base_url; with or without its `/v1`, or the whole endpoint URL).
 */
export class OpenAiProvider extends KeyedHttpProvider {
  readonly name: string = 'openai';
  constructor(opts: ProviderOptions = {}) {
    super(opts, 'openai');
  }

  /** The endpoint for a base_url: `https://host`, `https://host/v1`, `…/v1/` or `…/v1/chat/completions`. */
  static endpoint(baseUrl: string | undefined): string {
    const base = apiBase(baseUrl, DEFAULT_BASE_URL.openai, ['/v1/chat/completions', '/chat/completions', '/v1']);
    return `${base}/v1/chat/completions`;
  }

  protected request(req: ChatRequest, stream: boolean): HttpCall {
    const messages = [
      ...(req.system ? [{ role: 'system', content: req.system }] : []),
      ...req.messages.map((m) => ({ role: m.role, content: m.content })),
    ];
    return {
      provider: this.name,
      model: req.model,
      url: OpenAiProvider.endpoint(this.opts.baseUrl),
      headers: {
        ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}),
        ...(stream ? { accept: 'text/event-stream' } : {}),
        ...this.opts.headers,
      },
      body: {
        model: req.model,
        messages,
        max_completion_tokens: req.maxTokens,
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        ...(req.stop?.length ? { stop: req.stop } : {}),
        ...(req.json ? { response_format: { type: 'json_object' } } : {}),
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      },
      timeoutMs: req.timeoutMs ?? this.opts.timeoutMs ?? 120_000,
      signal: req.signal,
      keyMissing: this.key.missing,
    };
  }

  protected async once(req: ChatRequest, call: HttpCall): Promise<ChatResponse> {
    const live = await post(call);
    const body = (await readJson(live, call)) as {
      id?: string;
      model?: string;
      choices?: { message?: { content?: string | null; refusal?: string | null }; finish_reason?: string }[];
      usage?: OpenAiUsage;
    };
    expect(body && Array.isArray(body.choices) && body.choices.length > 0, call, 'response has no choices');
    expect(body.usage && typeof body.usage.completion_tokens === 'number', call, 'response has no usage');
    const choice = body.choices[0]!;
    const raw = choice.finish_reason ?? '';
    return finish(this.name, req, {
      text: choice.message?.content ?? '',
      model: body.model || req.model,
      usage: usageOf(body.usage),
      finishRaw: raw,
      finishReason: choice.message?.refusal ? 'content_filter' : (FINISH[raw] ?? 'other'),
      id: body.id,
    });
  }

  /** `data: {chunk}` lines, then one chunk with `choices: []` and the usage, then `data: [DONE]`. */
  protected async stream(req: ChatRequest, call: HttpCall, onDelta: (t: string) => void): Promise<ChatResponse> {
    const live = await post(call);
    let model = req.model;
    let id: string | undefined;
    let usage: OpenAiUsage | undefined;
    let raw = '';
    const text = await collectText(
      sse(live, call),
      { provider: this.name, req, marker: '[DONE]', onDelta },
      (ev, emit) => {
        if (ev.data === '[DONE]') return true;
        const d = parseChunk(ev.data, call) as {
          id?: string;
          model?: string;
          choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
          usage?: OpenAiUsage | null;
          error?: { message?: string; type?: string };
        };
        if (d.error) {
          throw new LlmError('server', `${this.name} stream error: ${d.error.message ?? d.error.type ?? ''}`, {
            provider: this.name,
            model: req.model,
          });
        }
        model = d.model || model;
        id ??= d.id;
        if (d.usage) usage = d.usage;
        for (const c of d.choices ?? []) {
          if (c.finish_reason) raw = c.finish_reason;
          emit(c.delta?.content ?? '');
        }
        return false;
      },
    );
    return finish(this.name, req, {
      text,
      model,
      usage: usageOf(usage ?? {}),
      finishRaw: raw,
      finishReason: FINISH[raw] ?? 'other',
      id,
    });
  }
}

/** inputTokens = prompt − cached (cached counted apart); reasoning tokens are already inside completion_tokens. */
function usageOf(u: OpenAiUsage) {
  const cached = int(u.prompt_tokens_details?.cached_tokens);
  return {
    ...zeroUsage(),
    inputTokens: Math.max(0, int(u.prompt_tokens) - cached),
    outputTokens: int(u.completion_tokens),
    cacheReadTokens: cached,
    reasoningTokens: int(u.completion_tokens_details?.reasoning_tokens),
  };
}
