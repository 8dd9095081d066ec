import { type ChatRequest, type ChatResponse, LlmError, type LlmProvider, zeroUsage } from '../../core/llm/types.js';
import { apiBase, expect, type HttpCall, int, lines, locate, type ProviderOptions, parseChunk, post } from './http.js';
import { collectText, DEFAULT_BASE_URL } from './shared.js';

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
    let last: OllamaChunk | undefined;
    const text = await collectText(
      lines(live, call),
      { provider: this.name, req, marker: 'done:true', onDelta: req.onDelta },
      (line, emit) => {
        if (!line.trim()) return false;
        const d = parseChunk(line, call) as OllamaChunk;
        expect(d && typeof d === 'object', call, 'stream line is not an object');
        if (d.error) throw new LlmError('server', `ollama: ${d.error}`, { provider: this.name, model: req.model });
        emit(d.message?.content ?? '');
        if (!d.done) return false;
        last = d;
        return true;
      },
    );
    // collectText returned, so the done chunk was read.
    const end: OllamaChunk = last ?? {};
    const raw = end.done_reason ?? 'stop';
    return {
      text,
      model: end.model || req.model,
      // prompt_eval_count is absent when the prompt came from the cache: that is 0, not unknown.
      usage: { ...zeroUsage(), inputTokens: int(end.prompt_eval_count), outputTokens: int(end.eval_count) },
      finishRaw: raw,
      finishReason: raw === 'length' ? 'length' : raw === 'stop' ? 'stop' : 'other',
    };
  }
}
