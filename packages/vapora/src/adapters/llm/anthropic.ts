import { type ChatRequest, type ChatResponse, LlmError, zeroUsage } from '../../core/llm/types.js';
import { KeyedHttpProvider } from './base.js';
import { apiBase, expect, type HttpCall, int, type ProviderOptions, parseChunk, post, readJson, sse } from './http.js';
import { collectText, DEFAULT_BASE_URL, finish } from './shared.js';

const STOP: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_use',
  refusal: 'content_filter',
  pause_turn: 'other',
};

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** Anthropic Messages API: POST /v1/messages with x-api-key and anthropic-version. */
export class AnthropicProvider extends KeyedHttpProvider {
  readonly name = 'anthropic';
  constructor(opts: ProviderOptions = {}) {
    super(opts, 'anthropic');
  }

  /** The endpoint for a base_url: `https://host`, `https://host/v1`, `…/v1/` or `…/v1/messages`. */
  static endpoint(baseUrl: string | undefined): string {
    return `${apiBase(baseUrl, DEFAULT_BASE_URL.anthropic, ['/v1/messages', '/v1'])}/v1/messages`;
  }

  protected request(req: ChatRequest, stream: boolean): HttpCall {
    return {
      provider: this.name,
      model: req.model,
      url: AnthropicProvider.endpoint(this.opts.baseUrl),
      headers: {
        ...(this.opts.apiKey ? { 'x-api-key': this.opts.apiKey } : {}),
        'anthropic-version': '2023-06-01',
        ...(stream ? { accept: 'text/event-stream' } : {}),
        ...this.opts.headers,
      },
      body: {
        model: req.model,
        max_tokens: req.maxTokens,
        messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
        ...(req.system ? { system: req.system } : {}),
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        ...(req.stop?.length ? { stop_sequences: req.stop } : {}),
        ...(stream ? { stream: true } : {}),
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
      type?: string;
      model?: string;
      content?: { type: string; text?: string }[];
      stop_reason?: string;
      usage?: AnthropicUsage;
    };
    expect(body && body.type === 'message' && Array.isArray(body.content), call, 'not a Messages response');
    expect(body.usage && typeof body.usage.output_tokens === 'number', call, 'response has no usage');
    const text = body.content
      .filter((c) => c.type === 'text')
      .map((c) => c.text ?? '')
      .join('');
    return finish(this.name, req, {
      text,
      model: body.model || req.model,
      usage: usageOf(body.usage),
      finishRaw: body.stop_reason ?? '',
      finishReason: STOP[body.stop_reason ?? ''] ?? 'other',
      id: body.id,
    });
  }

  /** SSE: message_start (input usage) … content_block_delta … message_delta (cumulative output) … message_stop. */
  protected async stream(req: ChatRequest, call: HttpCall, onDelta: (t: string) => void): Promise<ChatResponse> {
    const live = await post(call);
    let model = req.model;
    let id: string | undefined;
    let usage: AnthropicUsage = {};
    let stop = '';
    let ended = false;
    const text = await collectText(
      sse(live, call),
      { provider: this.name, req, marker: 'message_stop', onDelta, complete: () => ended },
      (ev, emit) => {
        const d = parseChunk(ev.data, call) as {
          type?: string;
          message?: { id?: string; model?: string; usage?: AnthropicUsage };
          delta?: { type?: string; text?: string; stop_reason?: string };
          usage?: AnthropicUsage;
          error?: { type?: string; message?: string };
        };
        const type = d.type ?? ev.event;
        if (type === 'message_start') {
          model = d.message?.model || model;
          id = d.message?.id;
          usage = { ...usage, ...d.message?.usage };
        } else if (type === 'content_block_delta' && d.delta?.type === 'text_delta' && d.delta.text) {
          emit(d.delta.text);
        } else if (type === 'message_delta') {
          if (d.delta?.stop_reason) stop = d.delta.stop_reason;
          if (d.usage) usage = { ...usage, ...d.usage }; // output_tokens is cumulative: the last one wins
        } else if (type === 'message_stop') {
          ended = true;
        } else if (type === 'error') {
          const t = d.error?.type ?? '';
          const kind = t === 'overloaded_error' ? 'overloaded' : t === 'rate_limit_error' ? 'rate_limit' : 'server';
          throw new LlmError(kind, `anthropic stream error ${t}: ${d.error?.message ?? ''}`, {
            provider: this.name,
            model: req.model,
          });
        }
        return false;
      },
    );
    return finish(this.name, req, {
      text,
      model,
      usage: usageOf(usage),
      finishRaw: stop,
      finishReason: STOP[stop] ?? 'other',
      id,
    });
  }
}

function usageOf(u: AnthropicUsage) {
  return {
    ...zeroUsage(),
    inputTokens: int(u.input_tokens),
    outputTokens: int(u.output_tokens),
    cacheReadTokens: int(u.cache_read_input_tokens),
    cacheWriteTokens: int(u.cache_creation_input_tokens),
  };
}
