import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import * as z from '@stratumiops/shared/zod';
import { ON_EXCEEDED, PROVIDERS } from './core/model.js';
import { ROLES } from './core/roles.js';

const int = (d: number) => z.number().int().nonnegative().default(d);

const provider = (timeoutMs: number) =>
  z
    .strictObject({
      /** Base URL of the API (tests and gateways point this elsewhere); empty means the provider's own. */
      base_url: z.string().default(''),
      /** The API key itself (prefer api_key_env: keys in files end up in backups). */
      api_key: z.string().default(''),
      /** The environment variable holding the key (default: ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY). */
      api_key_env: z.string().default(''),
      /** Whole-call timeout, headers and body. */
      timeout_ms: z.number().int().positive().default(timeoutMs),
    })
    .prefault({});

/** One hop of a route: `anthropic:claude-sonnet-4-6`, or a table. */
export const targetSchema = z.union([
  z.string().regex(/^(anthropic|openai|gemini|ollama|exec):.+$/, 'expected <provider>:<model>'),
  z.strictObject({ provider: z.enum(PROVIDERS), model: z.string().min(1) }),
]);

export const ruleSchema = z.strictObject({
  /** Regular expression matched against the task type; the first rule that matches wins. */
  pattern: z.string().min(1),
  provider: z.enum(PROVIDERS),
  model: z.string().min(1),
  /** Tried in order after the primary; at 80% of a budget the first one is used. */
  fallback: z.array(targetSchema).default([]),
  max_output_tokens: z.number().int().positive().optional(),
});

export const priceSchema = z.strictObject({
  provider: z.enum(PROVIDERS),
  model: z.string().min(1),
  /** USD per 1M input tokens. 0 is allowed (local models) and must be explicit. */
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cache_read: z.number().nonnegative().optional(),
  cache_write: z.number().nonnegative().optional(),
  max_input_tokens: z.number().int().positive().optional(),
});

const budgetSchema = z.strictObject({
  /** Limits in cents; absent means unlimited. `vapora budget set` stores limits that win over these. */
  monthly: z.number().int().nonnegative().optional(),
  weekly: z.number().int().nonnegative().optional(),
  /** At 100%: walk down to the cheapest fallback that fits, refuse, or require an approval. */
  on_exceeded: z.enum(ON_EXCEEDED).optional(),
});

export const configSchema = toolConfigSchema({
  /** Address of a remote vapora server (`vapora serve`); empty means this machine's storage. */
  url: z.string().default(''),
  /** API token for `url` (prefer VAPORA_TOKEN; `vapora init` writes one to .vapora/token). */
  token: z.string().default(''),
  storage: z
    .strictObject({
      backend: z.enum(['sqlite', 'postgresql']).default('sqlite'),
      /** SQLite file (default: vapora.db beside the project file, else in the data directory). */
      path: z.string().default(''),
      /** PostgreSQL connection string, e.g. postgres://vapora@127.0.0.1:5432/vapora. */
      url: z.string().default(''),
      pool_size: z.number().int().positive().default(10),
    })
    .prefault({}),
  nats: z
    .strictObject({
      /** nats://host:port; empty means the in-process bus (tasks run inside `vapora serve`). */
      url: z.string().default(''),
      ack_wait_ms: z.number().int().positive().default(30_000),
      max_deliver: z.number().int().min(1).default(5),
      nak_delay_ms: int(2000),
      duplicate_window_ms: z.number().int().positive().default(120_000),
    })
    .prefault({}),
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8001),
      /** PEM files: serve HTTPS (required to listen beyond loopback, unless --insecure). */
      tls_cert: z.string().default(''),
      tls_key: z.string().default(''),
      /** Let admins create exec agents (commands run on this host) over the API. */
      allow_exec_agents_over_api: z.boolean().default(false),
      /** /metrics without a token even on a non-loopback address. */
      metrics_public: z.boolean().default(false),
      /** The team's Cedar policies, added to the built-in ones (default: policies.cedar beside vapora.toml). */
      policy_file: z.string().default(''),
    })
    .prefault({}),
  agents: z
    .strictObject({
      /** An agent whose last heartbeat is older than this is stale: never chosen, then marked offline. */
      heartbeat_timeout_s: z.number().int().positive().default(60),
    })
    .prefault({}),
  budget: z
    .strictObject({
      /** Calendar periods (month, ISO week) are taken in this IANA time zone. */
      timezone: z.string().default('UTC'),
      /** Output tokens reserved when a request does not say. */
      default_max_output_tokens: z.number().int().positive().default(1024),
      /** What a role without its own setting does at 100%. */
      on_exceeded: z.enum(ON_EXCEEDED).default('downgrade'),
    })
    .prefault({}),
  budgets: z.partialRecord(z.enum(ROLES), budgetSchema).default({}),
  approvals: z
    .strictObject({
      /** Work of these roles waits for a person's approval before it runs. */
      roles: z.array(z.enum(ROLES)).default(['devops', 'security']),
      /** Roles whose pipeline steps can block the run (their output says {"block": true, "reason": …}). */
      can_block: z.array(z.enum(ROLES)).default(['security']),
      /** A request nobody decides within this long is rejected ("timed out"); 0 = never. */
      timeout_s: z.number().int().nonnegative().default(86_400),
    })
    .prefault({}),
  /** Where pipeline definitions (*.toml) are; default: pipelines/ beside vapora.toml. */
  pipelines_dir: z.string().default(''),
  routing: z
    .strictObject({
      rules: z.array(ruleSchema).default([]),
      /** Retries of one target on rate limits, overload, 5xx and timeouts, before the next in the chain. */
      retries: int(2),
      backoff_ms: int(500),
      max_backoff_ms: int(20_000),
    })
    .prefault({}),
  /** Extra or overriding price entries (USD per 1M tokens); they change the price-table version. */
  prices: z.array(priceSchema).default([]),
  providers: z
    .strictObject({
      anthropic: provider(120_000),
      openai: provider(120_000),
      gemini: provider(120_000),
      ollama: provider(300_000),
      exec: z.strictObject({ timeout_ms: z.number().int().positive().default(300_000) }).prefault({}),
    })
    .prefault({}),
});

export type VaporaConfig = z.infer<typeof configSchema>;

export const tool: ToolSpec = {
  name: 'vapora',
  config: {
    tool: 'vapora',
    schema: configSchema,
    projectFile: '.vapora/vapora.toml',
    env: {
      VAPORA_URL: 'url',
      VAPORA_TOKEN: 'token',
      VAPORA_NATS_URL: 'nats.url',
      VAPORA_DATABASE_URL: 'storage.url',
    },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
