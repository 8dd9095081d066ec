import type { Registry } from 'prom-client';
import type { MetricsSink } from '../core/metrics.js';
import { microToCents } from '../core/model.js';
import type { VaporaService } from '../core/service.js';

/** The vapora_* metric names dashboards use, with role/provider/status labels of bounded cardinality. */
export async function registerMetrics(
  registry: Registry,
  service: () => VaporaService | undefined,
): Promise<MetricsSink> {
  const prom = await import('prom-client');
  const registers = [registry];
  new prom.Gauge({
    name: 'vapora_budget_utilization_ratio',
    help: 'Budget utilization ratio (0.0-1.0) per agent role and period, spent and reserved over the limit',
    labelNames: ['role', 'period'],
    registers,
    async collect() {
      this.reset();
      const s = service();
      if (!s) return;
      for (const b of await s.limitedBudgets()) {
        for (const p of [b.month, b.week]) {
          if (p.limit === null) continue;
          const ratio = Number.isFinite(p.ratio) ? p.ratio : 1;
          this.set({ role: b.role, period: p.period === 'month' ? 'monthly' : 'weekly' }, ratio);
        }
      }
    },
  });
  const exceeded = new prom.Counter({
    name: 'vapora_budget_exceeded_total',
    help: 'Total number of budget exceeded events per agent role',
    labelNames: ['role'],
    registers,
  });
  const fallbacks = new prom.Counter({
    name: 'vapora_fallback_triggers_total',
    help: 'Total number of fallback provider triggers (budget or provider errors) by role, provider and reason',
    labelNames: ['role', 'provider', 'reason'],
    registers,
  });
  new prom.Gauge({
    name: 'vapora_active_agents',
    help: 'Number of active agents by role and status',
    labelNames: ['role', 'status'],
    registers,
    async collect() {
      this.reset();
      const s = service();
      if (!s) return;
      const st = await s.swarmStatus();
      for (const [role, c] of Object.entries(st.by_role)) {
        for (const status of ['ready', 'busy', 'offline'] as const) this.set({ role, status }, c[status]);
      }
    },
  });
  const duration = new prom.Histogram({
    name: 'vapora_task_duration_seconds',
    help: 'Task execution duration in seconds',
    labelNames: ['role'],
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers,
  });
  const status = new prom.Counter({
    name: 'vapora_task_status_total',
    help: 'Total tasks by role and status (success, failure, error, timeout, dead)',
    labelNames: ['role', 'status'],
    registers,
  });
  const cost = new prom.Counter({
    name: 'vapora_llm_cost_cents_total',
    help: 'Total LLM cost in cents per provider and role',
    labelNames: ['role', 'provider'],
    registers,
  });
  const tokens = new prom.Counter({
    name: 'vapora_tokens_used_total',
    help: 'Total tokens used per provider and role, input and output',
    labelNames: ['role', 'provider', 'direction'],
    registers,
  });
  return {
    taskFinished(role, s, seconds) {
      status.inc({ role, status: s });
      duration.observe({ role }, seconds);
    },
    llmUsage(role, provider, cents, input, output) {
      cost.inc({ role, provider }, cents);
      tokens.inc({ role, provider, direction: 'input' }, input);
      tokens.inc({ role, provider, direction: 'output' }, output);
    },
    fallback(role, provider, reason) {
      fallbacks.inc({ role, provider, reason });
    },
    budgetExceeded(role) {
      exceeded.inc({ role });
    },
  };
}

export { microToCents };
