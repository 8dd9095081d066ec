import { conflictError, notFoundError, validationError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import type { BudgetLedger, BudgetStatus } from './budget.js';
import type { MetricsSink } from './metrics.js';
import { budgetInput, centsToMicro, microToCents, type ProviderName, roleSchema } from './model.js';
import { parse } from './parse.js';
import { dayKey } from './periods.js';
import { ROLES, type Role } from './roles.js';
import type { LlmRouter } from './router.js';
import type { BudgetStore } from './store.js';
import {
  type BudgetView,
  budgetView,
  type CostRecordView,
  costRecordView,
  type DecisionView,
  decisionView,
} from './views.js';

export interface CostGroup {
  key: string;
  calls: number;
  failed_calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_microcents: number;
  cost_cents: number;
}

export const COST_GROUPS = ['role', 'provider', 'model', 'day', 'task-type'] as const;
export type CostGroupBy = (typeof COST_GROUPS)[number];

/** Money: routing decisions and calls through the router, budgets per role, cost reports, reconciliation. */
export class Spending {
  constructor(
    private readonly store: BudgetStore,
    private readonly ledger: BudgetLedger,
    private readonly router: LlmRouter,
    private readonly metrics: MetricsSink,
    private readonly now: () => number,
  ) {}

  /** What a call would do (a dry run): the same decision, reservations included, with money in cents. */
  async route(
    taskType: string,
    roleIn: string,
    o: { maxTokens?: number; prompt?: string } = {},
  ): Promise<DecisionView> {
    const role = parse(roleSchema, roleIn, 'role');
    const messages = o.prompt ? [{ role: 'user' as const, content: o.prompt }] : [];
    await this.ledger.reapOrphans();
    return decisionView(await this.router.plan({ role, taskType }, { messages, maxTokens: o.maxTokens ?? 0 }));
  }

  /** Sends a prompt through the router: a real, budgeted call (retries, fallbacks, a cost record per attempt). */
  async callLlm(taskType: string, roleIn: string, o: { prompt: string; maxTokens?: number | undefined }) {
    const role = parse(roleSchema, roleIn, 'role');
    const r = await this.router.call(
      { role, taskType },
      { messages: [{ role: 'user', content: o.prompt }], ...(o.maxTokens ? { maxTokens: o.maxTokens } : {}) },
    );
    for (const f of r.fallbacks) this.metrics.fallback(role, f.to.split(':')[0] ?? '', f.reason);
    const cost_cents = microToCents(r.costMicrocents);
    this.metrics.llmUsage(role, r.target.provider, cost_cents, r.usage.inputTokens, r.usage.outputTokens);
    return {
      text: r.text,
      provider: r.target.provider,
      model: r.model,
      usage: r.usage,
      cost_cents,
      attempts: r.attempts,
      fallbacks: r.fallbacks,
    };
  }

  async setBudget(roleIn: string, input: unknown): Promise<BudgetView> {
    const role = parse(roleSchema, roleIn, 'role');
    const b = parse(budgetInput, input, 'budget');
    const [old, cur] = await Promise.all([this.store.getBudget(role), this.ledger.limits(role)]);
    const micro = (v: number | null | undefined, prev: number | null) =>
      v === undefined ? prev : v === null ? null : centsToMicro(v);
    const monthly = micro(b.monthly, cur.month);
    const weekly = micro(b.weekly, cur.week);
    if (monthly !== null && weekly !== null && weekly > monthly) {
      throw validationError(
        `the weekly limit (${microToCents(weekly)}¢) is above the monthly one (${microToCents(monthly)}¢)`,
        { hint: 'a week is part of a month: lower --weekly or raise --monthly' },
      );
    }
    await this.store.setBudget({
      role,
      monthlyMicrocents: monthly,
      weeklyMicrocents: weekly,
      onExceeded: b.on_exceeded === undefined ? (old?.onExceeded ?? null) : b.on_exceeded,
      updatedAt: this.now(),
    });
    return budgetView(await this.ledger.status(role));
  }

  /** Budget and spend per role (all twelve, or one), in cents. Reservations of dead processes are charged first. */
  async budgets(roleIn?: string): Promise<BudgetView[]> {
    const roles = roleIn ? [parse(roleSchema, roleIn, 'role')] : [...ROLES];
    await this.ledger.reapOrphans();
    return (await Promise.all(roles.map((r) => this.ledger.status(r)))).map(budgetView);
  }

  /** Replaces an unsettled charge (a call whose process died) with the provider's real figure, in cents. */
  async reconcileCost(id: string, input: unknown): Promise<CostRecordView> {
    const { actual_cents } = parse(z.strictObject({ actual_cents: z.number().nonnegative() }), input, 'reconcile');
    const out = await this.ledger.reconcile(id, centsToMicro(actual_cents));
    if (!out) {
      const known = (await this.store.listCosts({})).find((c) => c.id === id);
      if (!known) throw notFoundError(`no cost record '${id}'`, { hint: "see 'vapora costs --unsettled'" });
      throw conflictError(`cost record '${id}' is ${known.outcome}, not unsettled: nothing to reconcile`);
    }
    return costRecordView(out);
  }

  /** Charges left by processes that died mid-call, to be reconciled. */
  async unsettledCosts(): Promise<CostRecordView[]> {
    await this.ledger.reapOrphans();
    return (await this.store.listCosts({ outcome: 'unsettled' })).map(costRecordView);
  }

  async costs(o: { by?: string; since?: number; role?: string; provider?: string } = {}): Promise<CostGroup[]> {
    const by = (o.by ?? 'provider') as CostGroupBy;
    if (!COST_GROUPS.includes(by))
      throw validationError(`cannot group costs by '${o.by}' (one of ${COST_GROUPS.join(', ')})`);
    const role = o.role === undefined ? undefined : (parse(roleSchema, o.role, 'role') as Role);
    const rows = await this.store.listCosts({ since: o.since, role, provider: o.provider as ProviderName | undefined });
    const tz = this.ledger.settings.timezone;
    const keyOf = (c: (typeof rows)[number]) =>
      by === 'role'
        ? c.role
        : by === 'provider'
          ? c.provider
          : by === 'model'
            ? `${c.provider}:${c.servedModel}`
            : by === 'day'
              ? dayKey(c.createdAt, tz)
              : c.taskType;
    const groups = new Map<string, CostGroup>();
    for (const c of rows) {
      const key = keyOf(c);
      const g = groups.get(key) ?? {
        key,
        calls: 0,
        failed_calls: 0,
        input_tokens: 0,
        output_tokens: 0,
        cost_microcents: 0,
        cost_cents: 0,
      };
      g.calls++;
      if (c.outcome !== 'ok') g.failed_calls++;
      g.input_tokens += c.inputTokens + c.cacheReadTokens + c.cacheWriteTokens;
      g.output_tokens += c.outputTokens;
      g.cost_microcents += c.costMicrocents;
      g.cost_cents = microToCents(g.cost_microcents);
      groups.set(key, g);
    }
    return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /** For the utilisation gauge: the status of every role with a limit. */
  async limitedBudgets(): Promise<BudgetStatus[]> {
    const all = await Promise.all(ROLES.map((r) => this.ledger.status(r)));
    return all.filter((b) => b.month.limit !== null || b.week.limit !== null);
  }
}
