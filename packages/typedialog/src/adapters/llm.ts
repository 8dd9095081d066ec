/**
 * The LLM layer of agents and the ai backend: vapora's (`@stratumiops/vapora/client/llm`), configured by
 * - the nearest `.vapora/vapora.toml` when there is one: vapora's own runtime, so its providers, prices, routing
 *   rules and budgets apply and every call is a cost record in vapora's store (`vapora costs` lists it);
 * - else `typedialog.toml` (`[providers.<name>]`, `[[prices]]`, `[llm]`): no budgets, and every attempt is appended
 *   as a cost record (vapora's shape) to costs.jsonl in typedialog's data directory.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '@stratumiops/shared/config';
import { dataDir } from '@stratumiops/shared/daemon';
import { StratumError } from '@stratumiops/shared/errors';
import {
  apiKeyProblem,
  createProvider,
  isLlmError,
  KEY_ENV,
  type LlmErrorKind,
  type LlmProvider,
  LlmRouter,
  PriceTable,
  type RouterOptions,
} from '@stratumiops/vapora/client/llm';
import type { AgentReply, AgentRequest, Caller } from '../core/agent/run.js';
import type { TypedialogConfig } from '../tool.js';

type Ledger = RouterOptions['ledger'];
type LedgerPort = Pick<Ledger, 'status' | 'keys' | 'reserve' | 'settle' | 'release'>;
type CostRecord = Parameters<Ledger['settle']>[1];
type Spend = Awaited<ReturnType<Ledger['settle']>>;
type BudgetStatus = Awaited<ReturnType<Ledger['status']>>;
type Role = Parameters<Ledger['status']>[0];
export type Decision = Awaited<ReturnType<LlmRouter['plan']>>;
type ProviderName = Parameters<RouterOptions['provider']>[0];

/** Calendar keys as vapora writes them (UTC): `2026-12`, `2026-W49`. */
function periodKeys(ms: number): { month: string; week: string } {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const t = new Date(Date.UTC(y, m - 1, d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const wy = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(wy, 0, 1)) / 86_400_000 + 1) / 7);
  return { month: `${y}-${String(m).padStart(2, '0')}`, week: `${wy}-W${String(week).padStart(2, '0')}` };
}

/** Without vapora: no limits; every attempt appended to a JSONL file (one cost record a line). */
export class CostFile implements LedgerPort {
  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  keys(at = this.now()) {
    return periodKeys(at);
  }

  async status(role: Role): Promise<BudgetStatus> {
    const k = this.keys();
    const free = {
      limit: null,
      spent: 0,
      reserved: 0,
      unsettled: 0,
      ratio: 0,
      state: 'normal',
      remaining: null,
    } as const;
    return {
      role,
      state: 'normal',
      ratio: 0,
      onExceeded: 'downgrade',
      month: { ...free, period: 'month', key: k.month },
      week: { ...free, period: 'week', key: k.week },
    };
  }

  async reserve(_role: Role, amount: number) {
    return { ok: true as const, id: '', keys: this.keys(), amount };
  }

  async settle(_id: string | null, cost: CostRecord): Promise<Spend> {
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, `${JSON.stringify(cost)}\n`, { mode: 0o600 });
    const row = (period: string) => ({ period, spent: 0, reserved: 0, unsettled: 0 });
    return { month: row(cost.monthKey), week: row(cost.weekKey) };
  }

  async release(): Promise<boolean> {
    return true;
  }
}

export interface LlmSession {
  /** Where the settings came from: vapora.toml (its runtime) or typedialog's own config. */
  source: 'vapora' | 'typedialog';
  /** The config file read, if any. */
  file?: string | undefined;
  /** Where cost records go. */
  costs: string;
  router: LlmRouter;
  close(): Promise<void>;
}

export interface OpenOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Tests: no real sleeping between retries. */
  sleep?: (ms: number) => Promise<void>;
}

/** The session for this directory: vapora's runtime when a .vapora/vapora.toml is found upwards, else typedialog's. */
export async function openLlm(
  td: { values: TypedialogConfig; file?: string | undefined },
  opts: OpenOptions = {},
): Promise<LlmSession> {
  const env = opts.env ?? process.env;
  const { tool: vapora } = await import('@stratumiops/vapora/tool');
  const loaded = loadConfig(vapora.config, { cwd: opts.cwd ?? process.cwd(), env });
  if (loaded.files.project) {
    const { openRuntime, sqlitePath } = await import('@stratumiops/vapora/runtime');
    const config = loaded.values as Parameters<typeof openRuntime>[0]['config'];
    const rt = await openRuntime({
      config,
      projectFile: loaded.files.project,
      env,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    return {
      source: 'vapora',
      file: loaded.files.project,
      costs:
        config.storage.backend === 'sqlite'
          ? `vapora's store ${sqlitePath(config, loaded.files.project, env)}`
          : "vapora's store (PostgreSQL)",
      router: rt.router,
      close: () => rt.close(),
    };
  }
  const cfg = td.values;
  const costs = join(dataDir('typedialog', env), 'costs.jsonl');
  const keyOf = (name: Exclude<ProviderName, 'exec'>) => {
    const p = cfg.providers[name];
    const keyEnv = p.api_key_env || KEY_ENV[name];
    return {
      apiKey: p.api_key || (keyEnv ? env[keyEnv] : undefined) || undefined,
      keyEnv,
      baseUrl: p.base_url || undefined,
    };
  };
  const cache = new Map<ProviderName, LlmProvider>();
  const router = new LlmRouter({
    rules: [],
    prices: PriceTable.withOverrides(cfg.prices),
    ledger: new CostFile(costs) as unknown as Ledger,
    provider: (name) => {
      let p = cache.get(name);
      if (!p) {
        if (name === 'exec') throw new StratumError('usage', 'agents cannot use the exec provider');
        p = createProvider(name, { ...keyOf(name), timeoutMs: cfg.providers[name].timeout_ms });
        cache.set(name, p);
      }
      return p;
    },
    retries: cfg.llm.retries,
    backoffMs: cfg.llm.backoff_ms,
    maxBackoffMs: cfg.llm.max_backoff_ms,
    defaultMaxOutputTokens: 1024,
    credentialProblem: (name) => (name === 'exec' ? undefined : apiKeyProblem(name, keyOf(name))),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
  });
  return { source: 'typedialog', file: td.file, costs, router, close: async () => {} };
}

export interface CallTarget {
  name: string;
  role: Role;
  provider: Exclude<ProviderName, 'exec'>;
  model: string;
  /** Routing rules of vapora.toml match this task type; `typedialog:agent:<name>` or `typedialog:ai:<form>`. */
  taskType: string;
}

const EXIT_OF: Record<LlmErrorKind, 'denied' | 'unavailable' | 'failure'> = {
  auth: 'denied',
  rate_limit: 'unavailable',
  overloaded: 'unavailable',
  server: 'unavailable',
  timeout: 'unavailable',
  network: 'unavailable',
  bad_response: 'failure',
  context_window: 'failure',
  content_policy: 'failure',
  invalid_request: 'failure',
};

/** An LlmError as a StratumError: auth → exit 5, unreachable or overloaded → 7, the rest → 1. */
export function llmFailure(e: unknown): unknown {
  if (!isLlmError(e)) return e;
  return new StratumError(EXIT_OF[e.kind], e.message, {
    hint:
      e.kind === 'auth'
        ? 'set the API key named above, or [providers.<name>] base_url/api_key_env in typedialog.toml or vapora.toml'
        : e.kind === 'network' || e.kind === 'timeout'
          ? 'check [providers.<name>] base_url and that the server is up'
          : undefined,
    details: { kind: e.kind, attempts: e.attempts ?? [] },
  });
}

/** The router as an agent's Caller: the agent's provider and model are its route when no vapora rule matches. */
export class RouterCaller implements Caller {
  constructor(
    private readonly session: LlmSession,
    private readonly target: CallTarget,
  ) {}

  private ctx() {
    const t = this.target;
    return {
      role: t.role,
      taskType: t.taskType,
      agentRoute: { source: `agent ${t.name}`, primary: { provider: t.provider, model: t.model }, fallback: [] },
    };
  }

  /** What a call would do (route, budget state, what is left out), without calling. */
  plan(req: Pick<AgentRequest, 'system' | 'messages' | 'maxTokens'>): Promise<Decision> {
    return this.session.router.plan(this.ctx(), req);
  }

  async call(req: AgentRequest): Promise<AgentReply> {
    try {
      const r = await this.session.router.call(this.ctx(), {
        system: req.system || undefined,
        messages: req.messages,
        maxTokens: req.maxTokens,
        temperature: req.temperature,
        json: req.json,
        onDelta: req.onDelta,
      });
      return {
        text: r.text,
        target: `${r.target.provider}:${r.model}`,
        inputTokens: r.usage.inputTokens,
        outputTokens: r.usage.outputTokens,
        costMicrocents: r.costMicrocents,
      };
    } catch (e) {
      throw this.explain(llmFailure(e));
    }
  }

  /** A refusal for lack of a price names the file to add it to: the one this session reads. */
  private explain(e: unknown): unknown {
    if (!(e instanceof StratumError) || e.details?.blocked !== 'unpriced') return e;
    const t = `${this.target.provider}:${this.target.model}`;
    const file = this.session.source === 'vapora' ? 'vapora.toml' : 'typedialog.toml';
    return new StratumError(e.code, e.message, {
      hint: `add a [[prices]] entry for ${t} to ${file} (USD per 1M tokens; price 0 for local models)`,
      ...(e.details ? { details: e.details } : {}),
    });
  }
}
