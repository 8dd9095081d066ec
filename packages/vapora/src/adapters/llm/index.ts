import type { LlmProvider } from '../../core/llm/types.js';
import { AnthropicProvider } from './anthropic.js';
import { type ExecOptions, ExecProvider } from './exec.js';
import { GeminiProvider } from './gemini.js';
import type { ProviderOptions } from './http.js';
import { OllamaProvider } from './ollama.js';
import { OpenAiProvider } from './openai.js';

export type { ExecOptions, ProviderOptions };
export { AnthropicProvider, ExecProvider, GeminiProvider, OllamaProvider, OpenAiProvider };

export type ProviderKind = 'anthropic' | 'openai' | 'gemini' | 'ollama' | 'exec';

/** The environment variable each provider's key is read from by default. */
export const KEY_ENV: Record<ProviderKind, string | undefined> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  gemini: 'GEMINI_API_KEY',
  ollama: undefined,
  exec: undefined,
};

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
