import type { BudgetStatus, PeriodStatus } from './budget.js';
import { type CostRecord, microToCents } from './model.js';
import type { Decision, Target } from './router.js';

/**
 * What a person or a script reads about money: cents (with decimals), in fields whose names say so. The same
 * objects go out as REST bodies and as `--json` documents, so a remote CLI prints what a local one does.
 */
const c = (micro: number | null): number | null => (micro === null ? null : microToCents(micro));

export interface PeriodView {
  period: 'month' | 'week';
  key: string;
  limit_cents: number | null;
  spent_cents: number;
  reserved_cents: number;
  /** Part of spent_cents charged in full for calls whose process died (see `vapora costs reconcile`). */
  unsettled_cents: number;
  remaining_cents: number | null;
  ratio: number | null;
  state: PeriodStatus['state'];
}

export interface BudgetView {
  role: BudgetStatus['role'];
  state: BudgetStatus['state'];
  /** (spent + reserved) / limit of the worse period; null when over a zero limit. */
  ratio: number | null;
  on_exceeded: BudgetStatus['onExceeded'];
  month: PeriodView;
  week: PeriodView;
}

const ratioView = (r: number): number | null => (Number.isFinite(r) ? r : null);

function periodView(p: PeriodStatus): PeriodView {
  return {
    period: p.period,
    key: p.key,
    limit_cents: c(p.limit),
    spent_cents: microToCents(p.spent),
    reserved_cents: microToCents(p.reserved),
    unsettled_cents: microToCents(p.unsettled),
    remaining_cents: c(p.remaining),
    ratio: ratioView(p.ratio),
    state: p.state,
  };
}

export function budgetView(s: BudgetStatus): BudgetView {
  return {
    role: s.role,
    state: s.state,
    ratio: ratioView(s.ratio),
    on_exceeded: s.onExceeded,
    month: periodView(s.month),
    week: periodView(s.week),
  };
}

export interface CostRecordView {
  id: string;
  request_id: string;
  task_id: string | null;
  role: string;
  task_type: string;
  provider: string;
  model: string;
  served_model: string;
  input_tokens: number;
  output_tokens: number;
  cost_cents: number;
  outcome: string;
  created_at: number;
}

export function costRecordView(r: CostRecord): CostRecordView {
  return {
    id: r.id,
    request_id: r.requestId,
    task_id: r.taskId,
    role: r.role,
    task_type: r.taskType,
    provider: r.provider,
    model: r.model,
    served_model: r.servedModel,
    input_tokens: r.inputTokens + r.cacheReadTokens + r.cacheWriteTokens,
    output_tokens: r.outputTokens,
    cost_cents: microToCents(r.costMicrocents),
    outcome: r.outcome,
    created_at: r.createdAt,
  };
}

export interface DecisionView {
  task_type: string;
  role: Decision['role'];
  route: { source: string; primary: Target; fallback: Target[]; pinned?: boolean };
  state: Decision['state'];
  max_output_tokens: number;
  /** In the order a real call tries them; each reserves up to its estimate. */
  candidates: { target: Target; estimate_cents: number }[];
  skipped: { target: Target; reason: string; kind: string }[];
  reason: string;
  blocked?: NonNullable<Decision['blocked']>;
  budget: BudgetView;
}

export function decisionView(d: Decision): DecisionView {
  return {
    task_type: d.taskType,
    role: d.role,
    route: {
      source: d.route.source,
      primary: d.route.primary,
      fallback: d.route.fallback,
      ...(d.route.pinned ? { pinned: true } : {}),
    },
    state: d.state,
    max_output_tokens: d.maxOutputTokens,
    candidates: d.candidates.map((c) => ({ target: c.target, estimate_cents: microToCents(c.estimate) })),
    skipped: d.skipped.map((s) => ({ target: s.target, reason: s.reason, kind: s.kind })),
    reason: d.reason,
    ...(d.blocked ? { blocked: d.blocked } : {}),
    budget: budgetView(d.budget),
  };
}
