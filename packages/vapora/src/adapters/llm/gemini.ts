import { type ChatRequest, type ChatResponse, LlmError, zeroUsage } from '../../core/llm/types.js';
import { KeyedHttpProvider } from './base.js';
import { apiBase, expect, type HttpCall, int, type ProviderOptions, parseChunk, post, readJson, sse } from './http.js';
import { collectText, DEFAULT_BASE_URL, finish } from './shared.js';

const FINISH: Record<string, string> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  BLOCKLIST: 'content_filter',
  SPII: 'content_filter',
};

interface GeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

interface GeminiBody {
  candidates?: { content?: { parts?: { text?: string }[] }; finishReason?: string }[];
  usageMetadata?: GeminiUsage;
  modelVersion?: string;
  responseId?: string;
  promptFeedback?: { blockReason?: string };
}

/** Google Gemini generateContent: POST /v1beta/models/{model}:generateContent with x-goog-api-key. */
export class GeminiProvider extends KeyedHttpProvider {
  readonly name = 'gemini';
  constructor(opts: ProviderOptions = {}) {
    super(opts, 'gemini');
  }

  protected request(req: ChatRequest, stream: boolean): HttpCall {
    // `https://host`, `…/v1beta` or `…/v1beta/models` all mean the same API.
    const base = apiBase(this.opts.baseUrl, DEFAULT_BASE_URL.gemini, ['/v1beta/models', '/v1beta', '/v1']);
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    return {
      provider: this.name,
      model: req.model,
      url: `${base}/v1beta/models/${encodeURIComponent(req.model)}:${method}`,
      // The key goes in a header, never in the URL (URLs end up in logs and error messages).
      headers: { ...(this.opts.apiKey ? { 'x-goog-api-key': this.opts.apiKey } : {}), ...this.opts.headers },
      body: {
        contents: req.messages.map((m) => ({
          role: m.role === 'assistant' ? 'model' : 'user',
          parts: [{ text: m.content }],
        })),
        ...(req.system ? { systemInstruction: { parts: [{ text: req.system }] } } : {}),
        generationConfig: {
          maxOutputTokens: req.maxTokens,
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
          ...(req.stop?.length ? { stopSequences: req.stop } : {}),
          ...(req.json ? { responseMimeType: 'application/json' } : {}),
        },
      },
      timeoutMs: req.timeoutMs ?? this.opts.timeoutMs ?? 120_000,
      signal: req.signal,
      keyMissing: this.key.missing,
    };
  }

  protected async once(req: ChatRequest, call: HttpCall): Promise<ChatResponse> {
    const live = await post(call);
    const body = (await readJson(live, call)) as GeminiBody;
    expect(body && typeof body === 'object', call, 'not a generateContent response');
    if (body.promptFeedback?.blockReason && !body.candidates?.length) {
      throw new LlmError('content_policy', `gemini: prompt blocked (${body.promptFeedback.blockReason})`, {
        provider: this.name,
        model: req.model,
      });
    }
    expect(Array.isArray(body.candidates) && body.candidates.length > 0, call, 'response has no candidates');
    expect(
      body.usageMetadata && typeof body.usageMetadata.promptTokenCount === 'number',
      call,
      'response has no usageMetadata',
    );
    const c = body.candidates[0]!;
    const raw = c.finishReason ?? '';
    return finish(this.name, req, {
      text: (c.content?.parts ?? []).map((p) => p.text ?? '').join(''),
      model: body.modelVersion || req.model,
      usage: usageOf(body.usageMetadata),
      finishRaw: raw,
      finishReason: FINISH[raw] ?? 'other',
      id: body.responseId,
    });
  }

  /** SSE of partial responses; usageMetadata and finishReason arrive on the last chunks. */
  protected async stream(req: ChatRequest, call: HttpCall, onDelta: (t: string) => void): Promise<ChatResponse> {
    const live = await post(call);
    let model = req.model;
    let id: string | undefined;
    let usage: GeminiUsage | undefined;
    let raw = '';
    const text = await collectText(
      sse(live, call),
      { provider: this.name, req, marker: 'a finishReason', onDelta, complete: () => raw !== '' },
      (ev, emit) => {
        const d = parseChunk(ev.data, call) as GeminiBody & { error?: { message?: string; status?: string } };
        if (d.error) {
          const kind = d.error.status === 'RESOURCE_EXHAUSTED' ? 'rate_limit' : 'server';
          throw new LlmError(kind, `gemini stream error: ${d.error.message ?? d.error.status ?? ''}`, {
            provider: this.name,
            model: req.model,
          });
        }
        model = d.modelVersion || model;
        id ??= d.responseId;
        if (d.usageMetadata) usage = d.usageMetadata;
        const c = d.candidates?.[0];
        if (c?.finishReason) raw = c.finishReason;
        for (const p of c?.content?.parts ?? []) emit(p.text ?? '');
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

/** promptTokenCount includes cached tokens; thoughts are billed as output. */
function usageOf(u: GeminiUsage) {
  const cached = int(u.cachedContentTokenCount);
  const thoughts = int(u.thoughtsTokenCount);
  return {
    ...zeroUsage(),
    inputTokens: Math.max(0, int(u.promptTokenCount) - cached),
    outputTokens: int(u.candidatesTokenCount) + thoughts,
    cacheReadTokens: cached,
    reasoningTokens: thoughts,
  };
}
