import { StratumError, validationError } from '@stratumiops/shared/errors';
import {
  type BudgetState,
  type BudgetStatus,
  type LedgerPort,
  type NoRoom,
  noRoom,
  type Reservation,
} from './budget.js';
import defaults from './defaults.json' with { type: 'json' };
import { uuid } from './ids.js';
import { type Attempt, type ChatRequest, type ChatResponse, LlmError, type LlmProvider } from './llm/types.js';
import { type CostRecord, MICROCENTS_PER_CENT, type OnExceeded, type ProviderName } from './model.js';
import { type Price, PriceTable } from './prices.js';
import type { Role } from './roles.js';

export type { Attempt } from './llm/types.js';

export interface Target {
  provider: ProviderName;
  model: string;
}
export const targetKey = (t: Target): string => `${t.provider}:${t.model}`;

export function parseTarget(t: string | Target): Target {
  if (typeof t !== 'string') return t;
  const i = t.indexOf(':');
  return { provider: t.slice(0, i) as ProviderName, model: t.slice(i + 1) };
}

export interface RuleInput {
  pattern: string;
  provider: ProviderName;
  model: string;
  fallback?: (string | Target)[] | undefined;
  max_output_tokens?: number | undefined;
}

export interface Route {
  /** The rule's pattern, `agent <id>`, or `role default`. */
  source: string;
  primary: Target;
  fallback: Target[];
  maxOutputTokens?: number | undefined;
  /** An exec agent's command: rules and budget states do not apply (it spends no tokens). */
  pinned?: boolean | undefined;
}

export interface CompiledRule extends Route {
  regex: RegExp;
}

/** Nested quantifiers like (a+)+ backtrack exponentially: refused, since patterns are user-supplied. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,?\d*\})/;

/** First match wins. Every rule is compiled at load; an invalid one is a validation error naming it. */
export function compileRules(rules: RuleInput[]): CompiledRule[] {
  return rules.map((r, i) => {
    const where = `routing rule ${i + 1} ('${r.pattern}')`;
    if (r.pattern.length > 500) throw validationError(`${where}: pattern longer than 500 characters`);
    if (NESTED_QUANTIFIER.test(r.pattern)) {
      throw validationError(`${where}: nested quantifiers can backtrack catastrophically`, {
        hint: 'simplify the pattern, e.g. (ab)+ instead of (a+b+)+',
      });
    }
    let regex: RegExp;
    try {
      regex = new RegExp(r.pattern);
    } catch (e) {
      throw validationError(`${where}: invalid regular expression: ${(e as Error).message}`, {
        hint: 'fix [[routing.rules]] in vapora.toml',
      });
    }
    return {
      source: `rule ${i + 1} /${r.pattern}/`,
      regex,
      primary: { provider: r.provider, model: r.model },
      fallback: (r.fallback ?? []).map(parseTarget),
      maxOutputTokens: r.max_output_tokens,
    };
  });
}

/**
 * Per-role defaults when no rule matches, from defaults.json (shipped with the package): Opus for security and
 * decisions, Gemini Flash for monitoring, Sonnet otherwise, each with a cheaper hop and a local last resort.
 */
export function roleDefaultRoute(role: Role): Route {
  let r = ROLE_ROUTES.get(role);
  if (!r) {
    const spec =
      (defaults.routes as Record<string, { primary: string; fallback: string[] }>)[role] ?? defaults.routes.default;
    r = { source: 'role default', primary: parseTarget(spec.primary), fallback: spec.fallback.map(parseTarget) };
    ROLE_ROUTES.set(role, r);
  }
  return r;
}

const ROLE_ROUTES = new Map<Role, Route>();

const FREE_PERIOD = {
  limit: null,
  spent: 0,
  reserved: 0,
  unsettled: 0,
  ratio: 0,
  state: 'normal',
  remaining: null,
} as const;
const FREE_BUDGET = (role: Role): BudgetStatus => ({
  role,
  state: 'normal',
  ratio: 0,
  onExceeded: 'downgrade',
  month: { ...FREE_PERIOD, period: 'month', key: '' },
  week: { ...FREE_PERIOD, period: 'week', key: '' },
});

/** Why a target of the route was left out: no price entry, no API key, or no room in a budget period. */
export type SkipKind = 'unpriced' | 'credentials' | 'budget';

/** Limits as a person's approval leaves them for one call: none. */
const UNLIMITED = { month: null, week: null, onExceeded: 'approval', source: 'store' } as const;

export interface Decision {
  taskType: string;
  role: Role;
  route: Route;
  state: BudgetState;
  /** Output tokens asked for (and reserved): the rule's max_output_tokens, else the request's. */
  maxOutputTokens: number;
  /** Targets in the order they will be tried (the first is the choice), each with what it reserves. Empty when blocked. */
  candidates: { target: Target; estimate: number }[];
  /** Targets left out, and why (no price entry, no API key, too expensive for what is left). */
  skipped: { target: Target; reason: string; kind: SkipKind }[];
  reason: string;
  blocked?: 'block' | 'approval' | 'no_fit' | 'unpriced' | 'no_credentials' | undefined;
  budget: BudgetStatus;
  /** Past the budget with a person's approval: reservations ignore the limits. */
  overBudgetApproved?: boolean | undefined;
}

export interface DecideOptions {
  inputTokens: number;
  maxOutputTokens: number;
  /** The agent's own provider/model, used when no rule matches the task type. */
  agentRoute?: Route | undefined;
  /** A person approved spending past the budget (policy `approval`): the limits do not apply to this call. */
  overBudgetApproved?: boolean | undefined;
}

/** Money as a person reads it: cents with 2 decimals or more (`1.23¢`, `0.000125¢`), never rounded away. */
export function formatCents(micro: number): string {
  const s = (micro / MICROCENTS_PER_CENT).toFixed(6).replace(/0+$/, '');
  const [whole, frac = ''] = s.split('.');
  return `${whole}.${frac.padEnd(2, '0')}¢`;
}

const clipLine = (s: string, n: number) => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n)}…` : one;
};

/** One attempt in a few words: `openai:gpt-4o (POST http://…/v1/chat/completions → 401 auth: invalid api key)`. */
export function describeAttempt(a: Attempt): string {
  const called = a.url ? `${a.method ?? 'POST'} ${a.url} → ` : '';
  const status = a.status === undefined ? '' : `${a.status} `;
  const reason = a.reason ?? a.message;
  return `${a.target} (${called}${status}${a.outcome}${reason ? `: ${clipLine(reason, 200)}` : ''})`;
}

/** Every attempt, in order, on one line; the same attempt repeated (retries) is counted: `… ×3`. */
export function describeAttempts(attempts: Attempt[]): string {
  const out: string[] = [];
  let last = '';
  let n = 0;
  const flush = () => {
    if (n > 0) out.push(n > 1 ? `${last} ×${n}` : last);
  };
  for (const a of attempts) {
    const d = describeAttempt(a);
    if (d === last) n++;
    else {
      flush();
      last = d;
      n = 1;
    }
  }
  flush();
  return out.join(', ');
}

const tried = (attempts: Attempt[]): string => (attempts.length > 0 ? `; tried: ${describeAttempts(attempts)}` : '');

export class BudgetExceededError extends StratumError {
  /** Every attempt of the call that ended here (targets refused for lack of room or of a key included). */
  readonly attempts: Attempt[];
  constructor(
    readonly decision: Decision,
    attempts: Attempt[] = [],
  ) {
    super('denied', `${decision.role} cannot call an LLM: ${decision.reason}${tried(attempts)}`, {
      hint:
        decision.blocked === 'approval'
          ? "the role's budget policy asks a person first: see 'vapora approvals', then 'vapora approve <task>'"
          : decision.blocked === 'unpriced'
            ? 'add a [[prices]] entry (price 0 for local models) to vapora.toml'
            : `raise it with 'vapora budget set ${decision.role}' or wait for the next period`,
      details: { role: decision.role, state: decision.state, blocked: decision.blocked, attempts },
    });
    this.attempts = attempts;
  }
}

/** The error a failed call throws: the last error, its message ending with every attempt, `.attempts` set. */
function withAttempts(e: unknown, attempts: Attempt[]): unknown {
  if (e instanceof BudgetExceededError) return new BudgetExceededError(e.decision, attempts);
  if (e instanceof LlmError) return new LlmError(e.kind, `${e.message}${tried(attempts)}`, e.info, attempts);
  return e;
}

export interface RouterEvent {
  type: 'fallback' | 'budget_exceeded' | 'attempt';
  role: Role;
  provider?: string;
  model?: string;
  to?: string;
  reason?: string;
}

export interface CallContext {
  role: Role;
  taskType: string;
  taskId?: string | null | undefined;
  agentRoute?: Route | undefined;
  /** A person approved spending past the budget for this task (policy `approval`). */
  overBudgetApproved?: boolean | undefined;
}

export interface RoutedResponse extends ChatResponse {
  target: Target;
  costMicrocents: number;
  requestId: string;
  decision: Decision;
  attempts: Attempt[];
  /** `from → to` hops taken, with the reason (budget or error kind). */
  fallbacks: { from: string; to: string; reason: string }[];
}

export interface RouterOptions {
  rules: CompiledRule[];
  prices: PriceTable;
  /** What the router needs of a budget ledger (typedialog passes its own, file-backed one). */
  ledger: LedgerPort;
  provider: (name: ProviderName) => LlmProvider;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  defaultMaxOutputTokens: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  onEvent?: (e: RouterEvent) => void;
  /**
   * Why a provider cannot be called (no API key), or undefined. Its targets are skipped with that reason by
   * decide/plan (dry runs) and by call (recorded as an `auth` attempt, no request), so both agree.
   */
  credentialProblem?: (provider: ProviderName) => string | undefined;
}

/**
 * Upper bound of input tokens: UTF-8 bytes (a byte-level BPE token covers at least one byte) plus a little per
 * message for the role markers. Reserving this, and not a chars/4 guess, is what makes the budget a hard cap.
 */
export function inputTokenBound(req: Pick<ChatRequest, 'messages' | 'system'>): number {
  let n = req.system ? Buffer.byteLength(req.system) + 8 : 0;
  for (const m of req.messages) n += Buffer.byteLength(m.content) + 8;
  return n + 8;
}

/** Full jitter: uniform in [0, min(max, base·2^attempt)], never less than Retry-After. */
export function backoff(
  attempt: number,
  base: number,
  max: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const cap = Math.min(max, base * 2 ** attempt);
  const jittered = Math.floor(random() * cap);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

/**
 * Why an estimate cannot be reserved now, or undefined: the test BudgetLedger.reserve (the store) applies, the
 * estimate against `limit − spent − reserved` of each limited period, week first. Free targets always fit.
 */
export function roomProblem(budget: BudgetStatus, estimate: number): string | undefined {
  const r = noRoom(budget, { month: budget.month.limit, week: budget.week.limit }, estimate);
  return r ? noRoomText(r, estimate) : undefined;
}

export const noRoomText = (r: NoRoom, estimate: number): string =>
  `no room in the ${r.period === 'month' ? 'monthly' : 'weekly'} budget (estimate ${formatCents(estimate)}, ${formatCents(Math.max(0, r.limit - r.spent - r.reserved))} left)`;

/** One `call` in progress: what every target's attempt reads, and the attempts and hops it adds to. */
interface CallRun {
  ctx: CallContext;
  req: Omit<ChatRequest, 'model' | 'maxTokens'>;
  decision: Decision;
  maxTokens: number;
  requestId: string;
  /** An exec agent's command: no cost records. */
  pinned: boolean;
  attempts: Attempt[];
  fallbacks: RoutedResponse['fallbacks'];
  /** The target the current one fell back from (for its cost records). */
  from: string | null;
  emit: (e: RouterEvent) => void;
}

export class LlmRouter {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(readonly o: RouterOptions) {
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = o.random ?? Math.random;
    this.now = o.now ?? Date.now;
  }

  /** The route for a task type: first matching rule, else the agent's own model, else the role's default. */
  route(taskType: string, role: Role, agentRoute?: Route): Route {
    if (agentRoute?.pinned) return agentRoute;
    for (const r of this.o.rules) if (r.regex.test(taskType)) return r;
    return agentRoute ?? roleDefaultRoute(role);
  }

  /**
   * Pure decision from a budget snapshot: Normal → primary then the chain; NearThreshold (≥ 80%) → the first
   * fallback then the rest; Exceeded (≥ 100%) → per the role: the cheapest fallbacks that fit what is left
   * (downgrade), or blocked (block, approval). In every state a target is left out (in `skipped`, with the reason)
   * when it has no price entry (never counted free), no API key (credentialProblem), or an estimate that does not
   * fit `limit − spent − reserved` of either period: the test call() meets when it reserves, so the first candidate
   * is the target a real call uses.
   */
  decide(taskType: string, role: Role, budget: BudgetStatus, d: DecideOptions): Decision {
    const route = this.route(taskType, role, d.agentRoute);
    const maxOut = route.maxOutputTokens ?? d.maxOutputTokens;
    const skipped: Decision['skipped'] = [];
    const approvedPastLimit = d.overBudgetApproved === true && budget.onExceeded === 'approval';
    const usable = (ts: Target[]) => {
      const out: Decision['candidates'] = [];
      for (const t of ts) {
        const p = this.priceOf(t);
        if (!p) {
          skipped.push({ target: t, reason: 'no price entry', kind: 'unpriced' });
          continue;
        }
        const missing = route.pinned ? undefined : this.o.credentialProblem?.(t.provider);
        if (missing) {
          skipped.push({ target: t, reason: missing, kind: 'credentials' });
          continue;
        }
        const estimate = PriceTable.estimate(p, d.inputTokens, maxOut);
        const noRoom = approvedPastLimit ? undefined : roomProblem(budget, estimate);
        if (noRoom) skipped.push({ target: t, reason: noRoom, kind: 'budget' });
        else out.push({ target: t, estimate });
      }
      return out;
    };
    const state = budget.state;
    const decision = (candidates: Decision['candidates'], reason: string, blocked?: Decision['blocked']): Decision => ({
      taskType,
      role,
      route,
      state,
      maxOutputTokens: maxOut,
      candidates,
      skipped,
      reason,
      ...(blocked ? { blocked } : {}),
      budget,
      ...(approvedPastLimit ? { overBudgetApproved: true } : {}),
    });
    if (route.pinned)
      return decision(usable([route.primary]), `pinned to the agent's ${route.primary.provider} command`);
    const chain = route.fallback.length > 0 ? route.fallback : [route.primary];
    const pct = `${Math.round(budget.ratio * 100)}%`;
    let candidates: Decision['candidates'];
    let reason: string;
    if (state === 'normal') {
      candidates = usable([route.primary, ...route.fallback]);
      reason = 'budget normal: primary first';
    } else if (state === 'near_threshold') {
      candidates = usable(chain);
      reason =
        route.fallback.length > 0
          ? 'budget near threshold: first fallback'
          : 'budget near threshold: no fallback, primary';
    } else {
      const policy: OnExceeded = budget.onExceeded;
      if (approvedPastLimit) {
        const approved = usable(chain).sort((x, y) => x.estimate - y.estimate);
        return decision(approved, `budget exceeded (${pct}): spending approved by a person`);
      }
      if (policy !== 'downgrade')
        return decision([], `budget exceeded (${pct}) and the role's policy is ${policy}`, policy);
      candidates = usable(chain).sort((x, y) => x.estimate - y.estimate);
      reason = `budget exceeded (${pct}): cheapest fallback that fits`;
    }
    if (candidates.length > 0) {
      const primarySkip = skipped.find((x) => x.target === route.primary);
      if (state === 'normal' && primarySkip) reason = `budget normal, primary left out (${primarySkip.reason})`;
      return decision(candidates, reason);
    }
    const kinds = new Set(skipped.map((x) => x.kind));
    if (kinds.size === 1 && kinds.has('credentials'))
      return decision(candidates, 'no target of the route has an API key', 'no_credentials');
    if (kinds.has('budget') && budget.onExceeded === 'approval')
      return decision(candidates, "no target fits the budget left and the role's policy is approval", 'approval');
    if (kinds.has('budget'))
      return decision(
        candidates,
        state === 'exceeded' ? `budget exceeded (${pct}): no fallback fits` : 'no target fits the budget left',
        'no_fit',
      );
    if (kinds.has('credentials'))
      return decision(candidates, 'no target of the route has both a price entry and an API key', 'no_credentials');
    return decision(candidates, 'no target of the route has a price entry', 'unpriced');
  }

  private readonly prices = new WeakMap<Target, Price | null>();

  /** Prices per target object (routes are immutable): no string keys built on the hot path. */
  private priceOf(t: Target): Price | undefined {
    let p = this.prices.get(t);
    if (p === undefined) {
      p = this.o.prices.get(t.provider, t.model) ?? null;
      this.prices.set(t, p);
    }
    return p ?? undefined;
  }

  async plan(ctx: CallContext, req: Pick<ChatRequest, 'messages' | 'system' | 'maxTokens'>): Promise<Decision> {
    // A pinned command spends nothing: its decision does not depend on the budget (nor reads it).
    const budget = ctx.agentRoute?.pinned ? FREE_BUDGET(ctx.role) : await this.o.ledger.status(ctx.role, this.now());
    return this.decide(ctx.taskType, ctx.role, budget, {
      inputTokens: inputTokenBound(req),
      maxOutputTokens: req.maxTokens || this.o.defaultMaxOutputTokens,
      agentRoute: ctx.agentRoute,
      overBudgetApproved: ctx.overBudgetApproved,
    });
  }

  /**
   * Routes, reserves, calls with retries, falls back, settles. Every attempt leaves a cost record, and is listed
   * (`attempts`) on the response or on the error thrown, whose message ends with all of them.
   */
  async call(
    ctx: CallContext,
    req: Omit<ChatRequest, 'model' | 'maxTokens'> & { maxTokens?: number },
  ): Promise<RoutedResponse> {
    const decision = await this.plan(ctx, { ...req, maxTokens: req.maxTokens || this.o.defaultMaxOutputTokens });
    const maxTokens = decision.maxOutputTokens;
    const emit = this.o.onEvent ?? (() => {});
    if (decision.state === 'exceeded' && !decision.route.pinned) emit({ type: 'budget_exceeded', role: ctx.role });
    // Targets the decision left out were not called: listed first, so the error names them too.
    const attempts: Attempt[] = decision.skipped.map((x) => ({
      target: targetKey(x.target),
      outcome: x.kind === 'credentials' ? 'auth' : x.kind,
      reason: x.reason,
      message: x.reason,
      skipped: true,
      costMicrocents: 0,
    }));
    if (decision.blocked === 'no_credentials') {
      throw new LlmError('auth', `${ctx.role} cannot call an LLM: ${decision.reason}${tried(attempts)}`, {}, attempts);
    }
    if (decision.blocked) throw new BudgetExceededError(decision, attempts);
    const run: CallRun = {
      ctx,
      req,
      decision,
      maxTokens,
      requestId: uuid(),
      pinned: decision.route.pinned === true,
      attempts,
      fallbacks: [],
      from: null,
      emit,
    };
    const primary = decision.route.primary;
    const first = decision.candidates[0];
    if (first && targetKey(first.target) !== targetKey(primary)) {
      const left = decision.skipped.find((x) => x.target === primary);
      this.hop(
        run,
        primary,
        first.target,
        left ? (left.kind === 'credentials' ? 'auth' : left.kind) : `budget_${decision.state}`,
      );
      run.from = targetKey(primary);
    }
    let lastError: unknown;
    for (const [i, candidate] of decision.candidates.entries()) {
      const out = await this.attemptTarget(run, candidate);
      if ('response' in out) return out.response;
      lastError = out.error;
      const next = decision.candidates[i + 1];
      if (next) this.hop(run, candidate.target, next.target, out.hop);
      // After a called target failed, the next one's cost record says what it fell back from.
      if (out.called) run.from = targetKey(candidate.target);
    }
    throw withAttempts(
      lastError ?? new BudgetExceededError({ ...decision, reason: 'no target left', blocked: 'no_fit' }),
      attempts,
    );
  }

  private hop(run: CallRun, from: Target, to: Target, reason: string): void {
    run.fallbacks.push({ from: targetKey(from), to: targetKey(to), reason });
    run.emit({ type: 'fallback', role: run.ctx.role, provider: to.provider, model: to.model, reason });
  }

  /**
   * One target of the chain: reserve its estimate, call it with retries (backoff, Retry-After), settle. Returns the
   * response, or why to go on to the next target; throws when the error must not fall back (a partial answer, a
   * request the next target would refuse too).
   */
  private async attemptTarget(
    run: CallRun,
    { target, estimate }: Decision['candidates'][number],
  ): Promise<{ response: RoutedResponse } | { error: unknown; hop: string; called: boolean }> {
    const { ctx, decision, requestId, attempts } = run;
    const key = targetKey(target);
    const price = this.o.prices.get(target.provider, target.model)!;
    // Free targets (local models, commands) hold nothing: they fit any budget, even an exceeded one.
    const r: Reservation =
      estimate === 0
        ? { ok: true, id: '', keys: this.o.ledger.keys(), amount: 0 }
        : await this.o.ledger.reserve(ctx.role, estimate, decision.overBudgetApproved ? UNLIMITED : undefined, {
            requestId,
            taskId: ctx.taskId ?? null,
            taskType: ctx.taskType,
            target: key,
          });
    if (!r.ok) {
      // Spent or reserved by someone else since the decision (a concurrent call).
      const reason = noRoomText(r, estimate);
      attempts.push({ target: key, outcome: 'budget', reason, message: reason, skipped: true, costMicrocents: 0 });
      const error = new BudgetExceededError({ ...decision, reason: `${key}: ${reason}`, blocked: 'no_fit' });
      return { error, hop: 'budget', called: false };
    }
    const provider = this.o.provider(target.provider);
    for (let attempt = 0; ; attempt++) {
      let res: ChatResponse;
      try {
        run.emit({ type: 'attempt', role: ctx.role, provider: target.provider, model: target.model });
        res = await provider.chat({ ...run.req, model: target.model, maxTokens: run.maxTokens });
      } catch (e) {
        const err =
          e instanceof LlmError
            ? e
            : new LlmError('server', (e as Error)?.message ?? String(e), { provider: target.provider });
        attempts.push({
          target: key,
          outcome: err.kind,
          method: err.info.method,
          url: err.info.url,
          status: err.info.status,
          reason: err.info.reason ?? err.message,
          message: err.message,
          costMicrocents: 0,
        });
        if (!run.pinned) {
          await this.o.ledger.settle(
            null,
            this.record(ctx, requestId, target, undefined, 0, err.kind, run.from, r.keys),
          );
        }
        const action = err.info.partial ? 'fail' : err.action;
        const wait =
          action === 'retry' && attempt < this.o.retries
            ? backoff(attempt, this.o.backoffMs, this.o.maxBackoffMs, this.random, err.info.retryAfterMs)
            : undefined;
        // A Retry-After longer than we are willing to wait: the next target instead.
        if (wait !== undefined && wait <= this.o.maxBackoffMs) {
          await this.sleep(wait);
          continue;
        }
        if (r.id) await this.o.ledger.release(r.id);
        if (action === 'fail') throw withAttempts(err, attempts);
        return { error: err, hop: err.kind, called: true };
      }
      // The call succeeded: settle outside the error path (a storage error must never trigger a retry).
      const servedPrice = this.o.prices.get(target.provider, res.model) ?? price;
      const cost = PriceTable.cost(servedPrice, res.usage);
      // Commands (exec) are not LLM calls: no cost record, no budget.
      if (!run.pinned)
        await this.o.ledger.settle(
          r.id || null,
          this.record(ctx, requestId, target, res, cost, 'ok', run.from, r.keys),
        );
      attempts.push({ target: key, outcome: 'ok', costMicrocents: cost });
      const response = {
        ...res,
        target,
        costMicrocents: cost,
        requestId,
        decision,
        attempts,
        fallbacks: run.fallbacks,
      };
      return { response };
    }
  }

  private record(
    ctx: CallContext,
    requestId: string,
    target: Target,
    res: ChatResponse | undefined,
    cost: number,
    outcome: string,
    fallbackFrom: string | null,
    keys: { month: string; week: string },
  ): CostRecord {
    return {
      id: uuid(),
      requestId,
      taskId: ctx.taskId ?? null,
      role: ctx.role,
      taskType: ctx.taskType,
      provider: target.provider,
      model: target.model,
      servedModel: res?.model ?? target.model,
      inputTokens: res?.usage.inputTokens ?? 0,
      outputTokens: res?.usage.outputTokens ?? 0,
      cacheReadTokens: res?.usage.cacheReadTokens ?? 0,
      cacheWriteTokens: res?.usage.cacheWriteTokens ?? 0,
      costMicrocents: cost,
      priceVersion: this.o.prices.version,
      outcome,
      fallbackFrom,
      monthKey: keys.month,
      weekKey: keys.week,
      createdAt: this.now(),
    };
  }
}
