/** The model behind generate_config: vapora's provider layer, configured by prov's [llm] settings. */
import { StratumError, usageError } from '@stratumiops/shared/errors';
import {
  apiKeyProblem,
  createProvider,
  isLlmError,
  KEY_ENV,
  PriceTable,
  type ProviderKind,
} from '@stratumiops/vapora/client/llm';
import type { Drafter } from '../core/assist.js';

export interface LlmSettings {
  provider: '' | 'anthropic' | 'openai' | 'gemini' | 'ollama';
  model: string;
  base_url: string;
  max_rounds: number;
  max_tokens: number;
  timeout_ms: number;
}

/** A drafter, or a usage error saying which setting is missing (nothing is sent then). */
export function drafterFor(s: LlmSettings, env: NodeJS.ProcessEnv = process.env): Drafter {
  if (!s.provider) {
    throw usageError('generating a config needs an LLM provider and none is configured', {
      hint: 'set [llm] provider and model in prov.toml (or PROV_LLM_PROVIDER and PROV_LLM_MODEL), and the provider API key',
    });
  }
  if (!s.model) {
    throw usageError(`no model for the ${s.provider} provider`, {
      hint: 'set [llm] model in prov.toml or PROV_LLM_MODEL',
    });
  }
  const kind = s.provider as ProviderKind;
  const keyEnv = KEY_ENV[kind];
  const apiKey = keyEnv ? env[keyEnv] : undefined;
  const baseUrl = s.base_url || undefined;
  const problem = apiKeyProblem(kind, { apiKey, baseUrl });
  if (problem) throw usageError(problem, { hint: keyEnv ? `export ${keyEnv}=<key>` : undefined });
  const provider = createProvider(kind, { apiKey, baseUrl, timeoutMs: s.timeout_ms });
  const prices = PriceTable.withOverrides();
  return {
    async chat(messages, system) {
      try {
        const r = await provider.chat({ model: s.model, maxTokens: s.max_tokens, system, messages, temperature: 0 });
        // Priced as the served model, else as the one asked for (a dated snapshot of it); unknown: null, never 0.
        const price = prices.get(kind, r.model) ?? prices.get(kind, s.model);
        return {
          text: r.text,
          model: r.model || s.model,
          inputTokens: r.usage.inputTokens + r.usage.cacheReadTokens + r.usage.cacheWriteTokens,
          outputTokens: r.usage.outputTokens,
          costMicroCents: price ? PriceTable.cost(price, r.usage) : null,
        };
      } catch (e) {
        if (!isLlmError(e)) throw e;
        const code = e.kind === 'auth' ? 'denied' : e.kind === 'invalid_request' ? 'usage' : 'unavailable';
        throw new StratumError(code, `${s.provider} (${s.model}): ${e.message}`, {
          hint:
            e.kind === 'auth' ? `check ${keyEnv ?? 'the API key'}` : 'try again, or configure another [llm] provider',
        });
      }
    },
  };
}
