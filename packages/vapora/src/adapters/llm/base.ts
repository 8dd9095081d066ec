import type { ChatRequest, ChatResponse, LlmProvider } from '../../core/llm/types.js';
import { type HttpCall, locate, type ProviderOptions } from './http.js';
import { keyCheck, noKeyError } from './shared.js';

/**
 * A provider's HTTP API that wants a key: it builds the request, reads a whole answer or a stream; this checks the
 * key first (no request without a required one) and names the call in every error.
 */
export abstract class KeyedHttpProvider implements LlmProvider {
  abstract readonly name: string;
  protected readonly key: { problem?: string; missing?: string };

  constructor(
    protected readonly opts: ProviderOptions,
    provider: string,
  ) {
    this.key = keyCheck(provider, opts);
  }

  protected abstract request(req: ChatRequest, stream: boolean): HttpCall;
  protected abstract once(req: ChatRequest, call: HttpCall): Promise<ChatResponse>;
  protected abstract stream(req: ChatRequest, call: HttpCall, onDelta: (t: string) => void): Promise<ChatResponse>;

  async chat(req: ChatRequest): Promise<ChatResponse> {
    if (this.key.problem) throw noKeyError(this.name, req, this.key.problem);
    const onDelta = req.onDelta;
    const call = this.request(req, onDelta !== undefined);
    return locate(call, () => (onDelta ? this.stream(req, call, onDelta) : this.once(req, call)));
  }
}
