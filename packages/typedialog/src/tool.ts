import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import * as z from '@stratumiops/shared/zod';
import { AGENT_ROLES } from './core/agent/roles.js';

/** `[providers.<name>]`, as in vapora.toml: where agents and the ai backend call a provider, and with which key. */
const provider = (timeoutMs: number) =>
  z
    .strictObject({
      /** Base URL of the API (a gateway or a local server); empty means the provider's own. */
      base_url: z.string().default(''),
      /** The key itself (prefer api_key_env). */
      api_key: z.string().default(''),
      /** The environment variable holding the key (default ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY). */
      api_key_env: z.string().default(''),
      timeout_ms: z.number().int().positive().default(timeoutMs),
    })
    .prefault({});

/** `[[prices]]`, as in vapora.toml: USD per 1M tokens, for models the built-in table does not know. */
export const priceSchema = z.strictObject({
  provider: z.enum(['anthropic', 'openai', 'gemini', 'ollama']),
  model: z.string().min(1),
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cache_read: z.number().nonnegative().optional(),
  cache_write: z.number().nonnegative().optional(),
  max_input_tokens: z.number().int().positive().optional(),
});

export const configSchema = toolConfigSchema({
  locale: z.string().default(''),
  providers: z
    .strictObject({
      anthropic: provider(120_000),
      openai: provider(120_000),
      gemini: provider(120_000),
      ollama: provider(300_000),
    })
    .prefault({}),
  prices: z.array(priceSchema).default([]),
  /** The ai backend of `typedialog run`: the model that drafts answers, and the vapora role its budget is. */
  ai: z
    .strictObject({
      model: z
        .string()
        .regex(/^(anthropic|openai|gemini|ollama):.+$/, { message: 'expected <provider>:<model>' })
        .default('anthropic:claude-sonnet-4-6'),
      role: z.enum(AGENT_ROLES).default('developer'),
      /** Drafts refused by the form are sent back this many times. */
      repairs: z.number().int().min(0).max(5).default(1),
    })
    .prefault({}),
  /** Retries of one call on rate limits, overload, 5xx and timeouts (backoff with jitter, Retry-After honoured). */
  llm: z
    .strictObject({
      retries: z.number().int().nonnegative().default(2),
      backoff_ms: z.number().int().nonnegative().default(500),
      max_backoff_ms: z.number().int().nonnegative().default(20_000),
    })
    .prefault({}),
});

export type TypedialogConfig = z.infer<typeof configSchema>;

export const tool: ToolSpec = {
  name: 'typedialog',
  config: {
    tool: 'typedialog',
    schema: configSchema,
    projectFile: 'typedialog.toml',
    env: { TYPEDIALOG_LOCALE: 'locale' },
  },
};
