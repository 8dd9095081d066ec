import type { LlmProvider } from '../../core/llm/types.js';
import { AnthropicProvider } from './anthropic.js';
import { type ExecOptions, ExecProvider } from './exec.js';
import { GeminiProvider } from './gemini.js';
import type { ProviderOptions } from './http.js';
import { OllamaProvider } from './ollama.js';
import { OpenAiProvider } from './openai.js';
import type { ProviderKind } from './shared.js';

export { apiKeyProblem, DEFAULT_BASE_URL, KEY_ENV, type KeySource } from './shared.js';
export type { ExecOptions, ProviderKind, ProviderOptions };
export { AnthropicProvider, ExecProvider, GeminiProvider, OllamaProvider, OpenAiProvider };

/**
 * A provider by kind. Anthropic, OpenAI and Gemini created without a key for their own API fail their first call
 * with an auth LlmError naming the key to set (apiKeyProblem), without a request.
 */
export function createProvider(kind: ProviderKind, opts: ProviderOptions & ExecOptions = {}): LlmProvider {
  switch (kind) {
    case 'anthropic':
      return new AnthropicProvider(opts);
    case 'openai':
      return new OpenAiProvider(opts);
    case 'gemini':
      return new GeminiProvider(opts);
    case 'ollama':
      return new OllamaProvider(opts);
    case 'exec':
      return new ExecProvider(opts);
  }
}
