import { type ChatRequest, type ChatResponse, LlmError, type LlmProvider, zeroUsage } from '../../core/llm/types.js';
import { apiBase, expect, type HttpCall, int, lines, locate, type ProviderOptions, parseChunk, post } from './http.js';
import { DEFAULT_BASE_URL, partial, truncated } from './shared.js';

interface OllamaChunk {
  model?: string;
  message?: { role?: string; content?: string };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

/**
 * Ollama POST /api/chat. It streams NDJSON by default; we always read the NDJSON stream (stream: true) so that a
 * slow local model keeps the connection alive, and pass deltas on when the caller wants them.
 */
export class OllamaProvider implements LlmProvider {
  readonly name = 'ollama';
  constructor(private readonly opts: ProviderOptions = {}) {}

  /** The endpoint for a base_url: `http://host:11434`, `…/api`, `…/api/chat`, or the OpenAI-compatible `…/v1`. */
  static endpoint(baseUrl: string | undefined): string {
    return `${apiBase(baseUrl, DEFAULT_BASE_URL.ollama, ['/api/chat', '/api', '/v1'])}/api/chat`;
  }

  async chat(req: ChatRequest): Promise<ChatResponse> {
    const call: HttpCall = {
      provider: this.name,
      model: req.model,
      url: OllamaProvider.endpoint(this.opts.baseUrl),
      headers: { ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}), ...this.opts.headers },
      body: {
        model: req.model,
        messages: [
          ...(req.system ? [{ role: 'system', content: req.system }] : []),
          ...req.messages.map((m) => ({ role: m.role, content: m.content })),
        ],
        stream: true,
        ...(req.json ? { format: 'json' } : {}),
        options: {
          num_predict: req.maxTokens,
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
          ...(req.stop?.length ? { stop: req.stop } : {}),
        },
      },
      timeoutMs: req.timeoutMs ?? this.opts.timeoutMs ?? 300_000,
      signal: req.signal,
    };
    return locate(call, () => this.stream(req, call));
  }

  private async stream(req: ChatRequest, call: HttpCall): Promise<ChatResponse> {
    const live = await post(call);
    let text = '';
    let last: OllamaChunk | undefined;
    let emitted = false;
    try {
      for await (const line of lines(live, call)) {
        if (!line.trim()) continue;
        const d = parseChunk(line, call) as OllamaChunk;
        expect(d && typeof d === 'object', call, 'stream line is not an object');
        if (d.error) throw new LlmError('server', `ollama: ${d.error}`, { provider: this.name, model: req.model });
        const t = d.message?.content;
        if (t) {
          text += t;
          if (req.onDelta) {
            emitted = true;
            req.onDelta(t);
          }
        }
        if (d.done) {
          last = d;
          break;
        }
      }
    } catch (e) {
      throw partial(e, emitted);
    }
    if (!last) {
      throw truncated(this.name, req, 'done:true', emitted);
    }
    const raw = last.done_reason ?? 'stop';
    return {
      text,
      model: last.model || req.model,
      // prompt_eval_count is absent when the prompt came from the cache: that is 0, not unknown.
      usage: { ...zeroUsage(), inputTokens: int(last.prompt_eval_count), outputTokens: int(last.eval_count) },
      finishRaw: raw,
      finishReason: raw === 'length' ? 'length' : raw === 'stop' ? 'stop' : 'other',
    };
  }
}
