/**
 * The composition root: config → store, prices, budget ledger, router with real providers, bus, service.
 * Drivers load lazily, so a command that only needs SQLite never loads pg or NATS.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { dataDir } from '@stratumiops/shared/daemon';
import { unavailableError, validationError } from '@stratumiops/shared/errors';
import { apiKeyProblem, KEY_ENV, type KeySource } from './adapters/llm/shared.js';
import { type BudgetAlert, BudgetLedger } from './core/budget.js';
import type { Bus } from './core/bus.js';
import type { LlmProvider } from './core/llm/types.js';
import type { MetricsSink } from './core/metrics.js';
import type { ProviderName } from './core/model.js';
import { checkTimeZone } from './core/periods.js';
import { PriceTable } from './core/prices.js';
import { compileRules, LlmRouter, type RouterEvent } from './core/router.js';
import { VaporaService } from './core/service.js';
import type { Store } from './core/store.js';
import type { VaporaConfig } from './tool.js';

export interface RuntimeOptions {
  config: VaporaConfig;
  /** The project file the config came from: relative paths are taken from its folder. */
  projectFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Connect the bus (JetStream when nats.url is set, else the in-process one). */
  bus?: boolean | 'memory';
  metrics?: MetricsSink;
  onRouterEvent?: (e: RouterEvent) => void;
  now?: () => number;
  /** Tests: no real sleeping between retries. */
  sleep?: (ms: number) => Promise<void>;
}

export interface Runtime {
  config: VaporaConfig;
  store: Store;
  prices: PriceTable;
  ledger: BudgetLedger;
  router: LlmRouter;
  service: VaporaService;
  bus: Bus | undefined;
  close(): Promise<void>;
}

/** SQLite file: storage.path (relative to the project file), else beside the project file, else the data dir. */
export function sqlitePath(cfg: VaporaConfig, projectFile?: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = projectFile ? dirname(projectFile) : process.cwd();
  if (cfg.storage.path) return isAbsolute(cfg.storage.path) ? cfg.storage.path : resolve(base, cfg.storage.path);
  return projectFile ? join(dirname(projectFile), 'vapora.db') : join(dataDir('vapora', env), 'vapora.db');
}

/** Pipeline definitions: [pipelines_dir] (relative to the project file), else pipelines/ beside vapora.toml. */
export function pipelinesDir(cfg: VaporaConfig, projectFile?: string): string | undefined {
  const base = projectFile ? dirname(projectFile) : process.cwd();
  if (cfg.pipelines_dir) return isAbsolute(cfg.pipelines_dir) ? cfg.pipelines_dir : resolve(base, cfg.pipelines_dir);
  return projectFile ? join(dirname(projectFile), 'pipelines') : undefined;
}

/** The team's Cedar file: [server] policy_file, else policies.cedar beside vapora.toml. */
export function policyFile(cfg: VaporaConfig, projectFile?: string): string | undefined {
  const base = projectFile ? dirname(projectFile) : process.cwd();
  if (cfg.server.policy_file)
    return isAbsolute(cfg.server.policy_file) ? cfg.server.policy_file : resolve(base, cfg.server.policy_file);
  return projectFile ? join(dirname(projectFile), 'policies.cedar') : undefined;
}

export async function openStore(cfg: VaporaConfig, projectFile?: string, env?: NodeJS.ProcessEnv): Promise<Store> {
  const { sqlStore } = await import('./adapters/sql/index.js');
  let store: Store;
  if (cfg.storage.backend === 'postgresql') {
    if (!cfg.storage.url) {
      throw validationError('storage.backend is postgresql but storage.url is empty', {
        hint: 'set [storage] url = "postgres://…" or VAPORA_DATABASE_URL',
      });
    }
    const { PostgresDriver } = await import('@stratumiops/shared/sql/postgres');
    store = sqlStore(new PostgresDriver(cfg.storage.url, cfg.storage.pool_size));
  } else {
    const { SqliteDriver } = await import('@stratumiops/shared/sql/sqlite');
    store = sqlStore(new SqliteDriver(sqlitePath(cfg, projectFile, env)));
  }
  try {
    await store.migrate();
  } catch (e) {
    await store.close().catch(() => {});
    const msg = (e as Error).message;
    throw unavailableError(`cannot open the ${cfg.storage.backend} store: ${msg}`);
  }
  return store;
}

export async function openBus(cfg: VaporaConfig, kind: true | 'memory' = true): Promise<Bus> {
  if (cfg.nats.url && kind !== 'memory') {
    const { JetStreamBus } = await import('./adapters/bus-jetstream.js');
    try {
      return await JetStreamBus.connect({
        url: cfg.nats.url,
        ackWaitMs: cfg.nats.ack_wait_ms,
        maxDeliver: cfg.nats.max_deliver,
        duplicateWindowMs: cfg.nats.duplicate_window_ms,
      });
    } catch (e) {
      throw unavailableError(`cannot reach NATS at ${cfg.nats.url}: ${(e as Error).message}`, {
        hint: 'start nats-server -js, or clear [nats] url to use the in-process bus',
      });
    }
  }
  const { MemoryBus } = await import('./adapters/bus-memory.js');
  return new MemoryBus({
    ackWaitMs: cfg.nats.ack_wait_ms,
    maxDeliver: cfg.nats.max_deliver,
    duplicateWindowMs: cfg.nats.duplicate_window_ms,
  });
}

const c = (cfg: VaporaConfig, name: Exclude<ProviderName, 'exec'>) => cfg.providers[name];

/** Where a provider's key comes from: [providers.x] api_key, else the variable api_key_env (or the usual one). */
export function keySource(
  cfg: VaporaConfig,
  name: Exclude<ProviderName, 'exec'>,
  env: NodeJS.ProcessEnv = process.env,
): KeySource & { apiKey: string | undefined } {
  const p = cfg.providers[name];
  const keyEnv = p.api_key_env || KEY_ENV[name];
  return {
    apiKey: p.api_key || (keyEnv ? env[keyEnv] : undefined) || undefined,
    keyEnv,
    baseUrl: p.base_url || undefined,
  };
}

/** Why a provider cannot be called (no key), named before any call: for routing decisions and `agent add`. */
export function credentialProblem(
  cfg: VaporaConfig,
  env: NodeJS.ProcessEnv = process.env,
): (name: ProviderName) => string | undefined {
  return (name) => (name === 'exec' ? undefined : apiKeyProblem(name, keySource(cfg, name, env)));
}

/** Providers from [providers.*]: keys from the config or the environment, never logged. */
export async function providerFactory(
  cfg: VaporaConfig,
  env: NodeJS.ProcessEnv = process.env,
  cwd?: string,
): Promise<(name: ProviderName) => LlmProvider> {
  const { createProvider } = await import('./adapters/llm/index.js');
  const cache = new Map<ProviderName, LlmProvider>();
  return (name) => {
    let p = cache.get(name);
    if (!p) {
      if (name === 'exec') p = createProvider('exec', { timeoutMs: cfg.providers.exec.timeout_ms, cwd });
      else {
        const { apiKey, keyEnv, baseUrl } = keySource(cfg, name, env);
        p = createProvider(name, { baseUrl, apiKey, keyEnv, timeoutMs: c(cfg, name).timeout_ms });
      }
      cache.set(name, p);
    }
    return p;
  };
}

export async function openRuntime(o: RuntimeOptions): Promise<Runtime> {
  const cfg = o.config;
  try {
    checkTimeZone(cfg.budget.timezone);
  } catch {
    throw validationError(`invalid config: 'budget.timezone': unknown time zone '${cfg.budget.timezone}'`);
  }
  const rules = compileRules(cfg.routing.rules);
  const prices = PriceTable.withOverrides(cfg.prices);
  const store = await openStore(cfg, o.projectFile, o.env);
  let bus: Bus | undefined;
  try {
    if (o.bus) bus = await openBus(cfg, o.bus);
  } catch (e) {
    await store.close();
    throw e;
  }
  const ledger = new BudgetLedger(
    store,
    {
      timezone: cfg.budget.timezone,
      defaults: cfg.budgets,
      onExceeded: cfg.budget.on_exceeded,
      reservationTtlMs: Math.max(60_000, 2 * Math.max(...Object.values(cfg.providers).map((p) => p.timeout_ms))),
    },
    {
      ...(o.now ? { now: o.now } : {}),
      onAlert: async (a: BudgetAlert) => {
        await bus?.publishAlert({ ...a, metadata: { ...a.metadata } }).catch(() => {});
      },
    },
  );
  const router = new LlmRouter({
    rules,
    prices,
    ledger,
    provider: await providerFactory(cfg, o.env, o.projectFile ? dirname(dirname(o.projectFile)) : undefined),
    retries: cfg.routing.retries,
    backoffMs: cfg.routing.backoff_ms,
    maxBackoffMs: cfg.routing.max_backoff_ms,
    defaultMaxOutputTokens: cfg.budget.default_max_output_tokens,
    credentialProblem: credentialProblem(cfg, o.env),
    ...(o.sleep ? { sleep: o.sleep } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.onRouterEvent ? { onEvent: o.onRouterEvent } : {}),
  });
  const service = new VaporaService({
    store,
    ledger,
    router,
    bus,
    heartbeatTimeoutMs: cfg.agents.heartbeat_timeout_s * 1000,
    pipelinesDir: pipelinesDir(cfg, o.projectFile),
    approvals: {
      roles: cfg.approvals.roles,
      canBlock: cfg.approvals.can_block,
      timeoutMs: cfg.approvals.timeout_s * 1000,
    },
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  return {
    config: cfg,
    store,
    prices,
    ledger,
    router,
    service,
    bus,
    close: async () => {
      await bus?.close().catch(() => {});
      await ledger.close();
      await store.close();
    },
  };
}
