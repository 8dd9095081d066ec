import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import * as z from '@stratumiops/shared/zod';

export const configSchema = toolConfigSchema({
  /** State location: a SQLite file path or a postgres:// URL. */
  state: z.string().default('.prov/state.db'),
  nickel: z
    .strictObject({
      /** builtin: the TypeScript evaluator; auto: a real `nickel` (NICKEL_BIN or PATH) when there is one. */
      engine: z.enum(['builtin', 'auto', 'binary']).default('builtin'),
      /** Extra import folders; a workspace's `schemas/` folder is always searched. */
      import_paths: z.array(z.string()).default([]),
    })
    .prefault({}),
  apply: z
    .strictObject({
      /** Tasks run at the same time (Terraform's default is 10). */
      parallelism: z.number().int().min(1).default(10),
      /** Retries of a task that failed for a transient reason. */
      retries: z.number().int().min(0).default(3),
      /** First wait before a retry, in ms; doubled (backoff_factor) each time up to backoff_max_ms. */
      backoff_initial_ms: z.number().min(0).default(1000),
      backoff_factor: z.number().min(1).default(2),
      backoff_max_ms: z.number().min(0).default(60_000),
    })
    .prefault({}),
  ssh: z
    .strictObject({
      /** strict: unknown host keys are refused; accept-new: recorded on first use; off: not checked. */
      host_key_checking: z.enum(['strict', 'accept-new', 'off']).default('strict'),
      /** prov's known_hosts file (~/.ssh/known_hosts is read too). */
      known_hosts: z.string().default('.prov/known_hosts'),
      /** Private key used for hosts that name none. */
      key: z.string().default(''),
      connect_timeout_s: z.number().positive().default(10),
    })
    .prefault({}),
  taskservs: z
    .strictObject({
      /** Extra folders of taskserv definitions (<name>.ncl), searched before the shipped ones. */
      dirs: z.array(z.string()).default([]),
    })
    .prefault({}),
  clusters: z
    .strictObject({
      /** Extra folders of cluster templates (<name>/template.ncl), searched before the shipped ones. */
      template_dirs: z.array(z.string()).default([]),
      /** Extra folders of workflows (<name>.ncl), searched before the shipped ones. */
      workflow_dirs: z.array(z.string()).default([]),
    })
    .prefault({}),
  aws: z
    .strictObject({
      /** Poll interval while waiting for an instance (ms). */
      poll_ms: z.number().int().min(1).default(2000),
    })
    .prefault({}),
  upcloud: z
    .strictObject({
      /** Poll interval while waiting for a server to start, stop or go (ms). */
      poll_ms: z.number().int().min(1).default(2000),
    })
    .prefault({}),
  llm: z
    .strictObject({
      /** The model behind prov mcp generate / generate_config (vapora's provider layer); empty: none. */
      provider: z.enum(['', 'anthropic', 'openai', 'gemini', 'ollama']).default(''),
      model: z.string().default(''),
      /** Another endpoint speaking the provider's API (a gateway, a local server). */
      base_url: z.string().default(''),
      /** Drafts the model may make for one config, the first included: each rejected one goes back with its errors. */
      max_rounds: z.number().int().min(1).max(10).default(3),
      max_tokens: z.number().int().min(256).default(4096),
      timeout_ms: z.number().int().min(1).default(120_000),
    })
    .prefault({}),
  knowledge: z
    .strictObject({
      /** The team's kogral graph (a folder holding .kogral/): runbooks, ADRs and postmortems cited by prov mcp query. */
      kogral_dir: z.string().default(''),
      /** How to start kogral's MCP server (default: the kogral installed beside prov, else `kogral` on PATH). */
      kogral_command: z.array(z.string()).default([]),
    })
    .prefault({}),
});

export const tool: ToolSpec = {
  name: 'prov',
  config: {
    tool: 'prov',
    schema: configSchema,
    projectFile: 'prov.toml',
    env: {
      PROV_STATE: 'state',
      PROV_NICKEL_ENGINE: 'nickel.engine',
      PROV_PARALLELISM: 'apply.parallelism',
      PROV_RETRIES: 'apply.retries',
      PROV_BACKOFF_INITIAL_MS: 'apply.backoff_initial_ms',
      PROV_BACKOFF_MAX_MS: 'apply.backoff_max_ms',
      PROV_HOST_KEY_CHECKING: 'ssh.host_key_checking',
      PROV_SSH_KEY: 'ssh.key',
      PROV_AWS_POLL_MS: 'aws.poll_ms',
      PROV_UPCLOUD_POLL_MS: 'upcloud.poll_ms',
      PROV_LLM_PROVIDER: 'llm.provider',
      PROV_LLM_MODEL: 'llm.model',
      PROV_LLM_BASE_URL: 'llm.base_url',
      PROV_LLM_MAX_ROUNDS: 'llm.max_rounds',
      PROV_KOGRAL_DIR: 'knowledge.kogral_dir',
    },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
