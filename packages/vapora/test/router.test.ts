import { afterEach, describe, expect, it } from 'vitest';
import { createProvider } from '../src/adapters/llm/index.js';
import { type BudgetAlert, BudgetLedger, stateOf, statusOf } from '../src/core/budget.js';
import { LlmError } from '../src/core/llm/types.js';
import type { CostRecord, ProviderName } from '../src/core/model.js';
import { isoWeek, periodKeys } from '../src/core/periods.js';
import { PriceTable, tokenCost } from '../src/core/prices.js';
import { BudgetExceededError, backoff, compileRules, LlmRouter, type RuleInput } from '../src/core/router.js';
import type { Store } from '../src/core/store.js';
import { type FakeServer, fakeServer, type Reply, sqliteStore, wire } from './helpers.js';

describe('calendar periods', () => {
  it('ISO weeks at year boundaries', () => {
    expect(isoWeek(2026, 1, 1)).toEqual({ year: 2026, week: 1 }); // a Thursday
    expect(isoWeek(2027, 1, 1)).toEqual({ year: 2026, week: 53 }); // a Friday: last week of 2026
    expect(isoWeek(2024, 12, 30)).toEqual({ year: 2025, week: 1 }); // a Monday: first week of 2025
    expect(periodKeys(Date.UTC(2026, 10, 22, 12))).toEqual({ month: '2026-11', week: '2026-W47' });
  });

  it('follow the configured time zone, UTC by default', () => {
    const t = Date.UTC(2026, 10, 30, 23, 30); // Monday 30 Nov, 23:30 UTC
    expect(periodKeys(t)).toEqual({ month: '2026-11', week: '2026-W49' });
    expect(periodKeys(t, 'Pacific/Kiritimati')).toEqual({ month: '2026-12', week: '2026-W49' }); // UTC+14: Tue 1 Dec
    expect(periodKeys(Date.UTC(2026, 11, 1, 5), 'America/Los_Angeles')).toEqual({ month: '2026-11', week: '2026-W49' });
  });
});

describe('prices', () => {
  it('micro-cents, rounded up, versioned; unknown models are absent, exec free by definition', () => {
    const p = PriceTable.withOverrides();
    expect(p.get('anthropic', 'claude-sonnet-4-6')).toMatchObject({ input: 300_000_000, output: 1_500_000_000 });
    expect(p.get('anthropic', 'claude-sonnet-4-20250514')).toBeUndefined(); // retired: fixtures only
    expect(p.get('ollama', 'mystery:7b')).toBeUndefined();
    expect(p.get('exec', 'anything')).toMatchObject({ input: 0, output: 0 });
    expect(tokenCost(1, 2_500_000)).toBe(3); // 2.5 micro-cents → 3
    expect(tokenCost(1_000_000, 300_000_000)).toBe(300_000_000);
    expect(tokenCost(2 ** 40, 7_500_000_000)).toBe(Number((2n ** 40n * 7_500_000_000n) / 1_000_000n));
    const fixtures = PriceTable.withOverrides([
      { provider: 'anthropic', model: 'claude-sonnet-4-20250514', input: 3, output: 15 },
    ]);
    expect(fixtures.version).not.toBe(p.version);
    expect(fixtures.get('anthropic', 'claude-sonnet-4-20250514')).toBeDefined();
  });
});

describe('budget states', () => {
  it('normal < 80% ≤ near < 100% ≤ exceeded; no limit is normal, a zero limit exceeded; the worse period wins', () => {
    expect(stateOf(79, 100).state).toBe('normal');
    expect(stateOf(80, 100).state).toBe('near_threshold');
    expect(stateOf(100, 100).state).toBe('exceeded');
    expect(stateOf(1e9, null).state).toBe('normal');
    expect(stateOf(0, 0).state).toBe('exceeded');
    const s = statusOf(
      'security',
      { month: { period: '2026-11', spent: 10, reserved: 0 }, week: { period: '2026-W47', spent: 85, reserved: 0 } },
      { month: 1000, week: 100, onExceeded: 'block', source: 'store' },
    );
    expect([s.state, s.ratio, s.month.state, s.week.state]).toEqual([
      'near_threshold',
      0.85,
      'normal',
      'near_threshold',
    ]);
  });
});

describe('routing rules', () => {
  it('first match wins; an invalid regex or a nested quantifier is a validation error naming the rule', () => {
    const rules = compileRules([
      {
        pattern: '^security_',
        provider: 'anthropic',
        model: 'claude-opus-4-5',
        fallback: ['anthropic:claude-sonnet-4-6'],
      },
      { pattern: 'scan', provider: 'openai', model: 'gpt-4o-mini' },
    ]);
    expect(rules[0]!.regex.test('security_scan')).toBe(true);
    expect(rules[0]!.fallback).toEqual([{ provider: 'anthropic', model: 'claude-sonnet-4-6' }]);
    let err: unknown;
    try {
      compileRules([
        { pattern: 'ok', provider: 'openai', model: 'm' },
        { pattern: '([a-z', provider: 'openai', model: 'm' },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'validation', exitCode: 3 });
    expect((err as Error).message).toMatch(/routing rule 2 \('\(\[a-z'\): invalid regular expression/);
    expect(() => compileRules([{ pattern: '(a+)+$', provider: 'openai', model: 'm' }])).toThrow(/nested quantifiers/);
  });

  it('backoff: full jitter under the cap, never below Retry-After', () => {
    for (let i = 0; i < 50; i++) expect(backoff(3, 100, 500, Math.random)).toBeLessThanOrEqual(500);
    expect(backoff(0, 100, 500, () => 0.999)).toBe(99);
    expect(backoff(0, 100, 5000, () => 0, 3000)).toBe(3000);
  });
});

// ---- the router over a real store and real HTTP providers ----

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

interface Setup {
  store: Store;
  ledger: BudgetLedger;
  router: LlmRouter;
  sleeps: number[];
  alerts: BudgetAlert[];
  events: { type: string; reason?: string | undefined; to?: string | undefined }[];
}

const PRICES = [
  { provider: 'openai' as const, model: 'big', input: 10, output: 30 },
  { provider: 'openai' as const, model: 'small', input: 1, output: 2 },
  { provider: 'ollama' as const, model: 'free', input: 0, output: 0 },
];

async function setup(
  urls: Partial<Record<ProviderName, string>>,
  o: {
    rules?: RuleInput[];
    budget?: { monthly?: number; weekly?: number; on_exceeded?: 'downgrade' | 'block' | 'approval' };
    retries?: number;
  } = {},
): Promise<Setup> {
  const store = await sqliteStore();
  const alerts: BudgetAlert[] = [];
  const ledger = new BudgetLedger(
    store,
    {
      timezone: 'UTC',
      defaults: o.budget ? { security: o.budget } : {},
      onExceeded: 'downgrade',
      reservationTtlMs: 60_000,
    },
    { onAlert: (a) => void alerts.push(a) },
  );
  const sleeps: number[] = [];
  const events: Setup['events'] = [];
  const router = new LlmRouter({
    rules: compileRules(
      o.rules ?? [{ pattern: '.*', provider: 'openai', model: 'big', fallback: ['openai:small', 'ollama:free'] }],
    ),
    prices: PriceTable.withOverrides(PRICES),
    ledger,
    provider: (n) => createProvider(n, { baseUrl: urls[n] ?? 'http://127.0.0.1:1', timeoutMs: 5000 }),
    retries: o.retries ?? 2,
    backoffMs: 100,
    maxBackoffMs: 5000,
    defaultMaxOutputTokens: 100,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    onEvent: (e) => void events.push({ type: e.type, reason: e.reason, to: e.model }),
  });
  return { store, ledger, router, sleeps, alerts, events };
}

const serve = async (script: (n: number) => Reply) => {
  const s = await fakeServer((n) => script(n));
  servers.push(s);
  return s;
};
const openaiOk = (model: string) => () => ({
  json: wire.openai(`from ${model}`, { model, prompt: 10, completion: 10 }),
});
const ask = (r: LlmRouter) =>
  r.call({ role: 'security', taskType: 'scan' }, { messages: [{ role: 'user', content: 'hello' }] });
const spend = (st: Setup, cents: number): Promise<unknown> =>
  st.ledger.settle(null, {
    id: `seed-${Math.random()}`,
    requestId: 'seed',
    taskId: null,
    role: 'security',
    taskType: 'scan',
    provider: 'openai',
    model: 'big',
    servedModel: 'big',
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costMicrocents: cents * 1_000_000,
    priceVersion: 'seed',
    outcome: 'ok',
    fallbackFrom: null,
    ...st.ledger.keys(),
    monthKey: st.ledger.keys().month,
    weekKey: st.ledger.keys().week,
    createdAt: Date.now(),
  } as CostRecord);

describe('LLM router', () => {
  it('normal: the primary serves; the cost record carries the served model, price version and real usage', async () => {
    const oa = await serve(() => ({ json: wire.openai('hi', { model: 'big', prompt: 1000, completion: 500 }) }));
    const st = await setup({ openai: oa.url }, { budget: { monthly: 1000 } });
    const r = await ask(st.router);
    expect([r.text, r.target.model, r.decision.state, r.fallbacks]).toEqual(['hi', 'big', 'normal', []]);
    // 1000 × $10/M + 500 × $30/M = $0.025 = 2.5 cents
    expect(r.costMicrocents).toBe(2_500_000);
    const [c] = await st.store.listCosts();
    expect(c).toMatchObject({
      servedModel: 'big',
      costMicrocents: 2_500_000,
      inputTokens: 1000,
      outputTokens: 500,
      outcome: 'ok',
    });
    expect(c!.priceVersion).toMatch(/^2026-11-22\+/);
  });

  it('at 80% of a budget the first fallback serves; at 100% the cheapest fallback that fits (a free local model)', async () => {
    const oa = await serve((n) => ({
      json: wire.openai('x', { model: n === 0 ? 'small' : 'big', prompt: 5, completion: 5 }),
    }));
    const ol = await serve(() => ({ chunks: wire.ollama(['local'], { prompt: 5, evals: 1, model: 'free' }) }));
    const st = await setup({ openai: oa.url, ollama: ol.url }, { budget: { monthly: 10_000, weekly: 100 } });
    await spend(st, 85);
    const near = await ask(st.router);
    expect([near.decision.state, near.target.model]).toEqual(['near_threshold', 'small']);
    expect(near.fallbacks).toEqual([{ from: 'openai:big', to: 'openai:small', reason: 'budget_near_threshold' }]);
    await spend(st, 20);
    const over = await ask(st.router);
    expect([over.decision.state, over.target.provider, over.text, over.costMicrocents]).toEqual([
      'exceeded',
      'ollama',
      'local',
      0,
    ]);
    expect(over.decision.skipped).toEqual([
      {
        target: { provider: 'openai', model: 'small' },
        reason: 'no room in the weekly budget (estimate 0.0221¢, 0.00¢ left)',
        kind: 'budget',
      },
    ]);
    expect(st.events.filter((e) => e.type === 'budget_exceeded')).toHaveLength(1);
    expect(st.alerts.map((a) => a.metadata.level)).toEqual(['near_threshold', 'exceeded']);
    await spend(st, 1);
    expect(st.alerts).toHaveLength(2); // one alert per threshold crossing per period
  });

  it('at 100% a blocking role is refused (exit code 5), an approval role too', async () => {
    for (const policy of ['block', 'approval'] as const) {
      const st = await setup({}, { budget: { monthly: 100, on_exceeded: policy } });
      await spend(st, 100);
      const e = await ask(st.router).catch((x) => x);
      expect(e).toBeInstanceOf(BudgetExceededError);
      expect([e.exitCode, e.decision.blocked]).toEqual([5, policy]);
    }
  });

  it('refuses a model without a price entry instead of counting it free', async () => {
    const st = await setup({}, { rules: [{ pattern: '.*', provider: 'ollama', model: 'mystery:7b' }] });
    const e = await ask(st.router).catch((x) => x);
    expect(e).toBeInstanceOf(BudgetExceededError);
    expect([e.decision.blocked, e.decision.skipped[0].reason]).toEqual(['unpriced', 'no price entry']);
  });

  it('429 with Retry-After is retried after at least that long, then succeeds', async () => {
    const oa = await serve((n) =>
      n === 0
        ? { status: 429, json: wire.openaiError('slow down', 'requests'), headers: { 'retry-after': '2' } }
        : openaiOk('big')(),
    );
    const st = await setup({ openai: oa.url });
    const r = await ask(st.router);
    expect(r.target.model).toBe('big');
    expect(st.sleeps).toEqual([2000]);
    expect(r.attempts.map((a) => a.outcome)).toEqual(['rate_limit', 'ok']);
    const costs = await st.store.listCosts();
    expect(costs.map((c) => [c.outcome, c.costMicrocents === 0])).toEqual([
      ['rate_limit', true],
      ['ok', false],
    ]);
  });

  it('5xx: retries with jittered backoff, then the next in the chain; reservations released on the way', async () => {
    const oa = await serve((n) =>
      n < 3 ? { status: 500, json: wire.openaiError('boom', 'server_error') } : openaiOk('small')(),
    );
    const st = await setup({ openai: oa.url }, { budget: { monthly: 1000 } });
    const r = await ask(st.router);
    expect(r.target.model).toBe('small');
    expect(st.sleeps).toEqual([50, 100]); // random 0.5 × 100·2^attempt
    expect(r.fallbacks).toEqual([{ from: 'openai:big', to: 'openai:small', reason: 'server' }]);
    expect((await st.store.listCosts()).find((c) => c.outcome === 'ok')?.fallbackFrom).toBe('openai:big');
    const s = await st.store.spend('security', st.ledger.keys());
    expect(s.month.reserved).toBe(0);
  });

  it('garbage and a hanging provider fall through to the next target; a context-window error skips retries', async () => {
    const bad = await serve((n) =>
      n === 0
        ? { text: 'not json' }
        : n === 1
          ? { hang: true }
          : { status: 400, json: wire.openaiError('maximum context length is 8192 tokens') },
    );
    const ol = await serve(() => ({ chunks: wire.ollama(['ok'], { prompt: 1, evals: 1, model: 'free' }) }));
    const st = await setup(
      { openai: bad.url, ollama: ol.url },
      {
        retries: 0,
        rules: [
          { pattern: '.*', provider: 'openai', model: 'big', fallback: ['openai:small', 'openai:big', 'ollama:free'] },
        ],
      },
    );
    const r = await ask(st.router);
    expect(r.attempts.map((a) => a.outcome)).toEqual(['bad_response', 'timeout', 'context_window', 'ok']);
    expect(r.target.provider).toBe('ollama');
  });

  it('auth errors fail fast: no retry, no fallback', async () => {
    const oa = await serve(() => ({
      status: 401,
      json: wire.openaiError('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'),
    }));
    const st = await setup({ openai: oa.url });
    const e = await ask(st.router).catch((x) => x);
    expect(e).toBeInstanceOf(LlmError);
    expect(e.kind).toBe('auth');
    expect(oa.requests).toHaveLength(1);
    expect(st.sleeps).toEqual([]);
  });

  it('a stream that fails after output reached the caller is not replayed on a fallback', async () => {
    const chunk = {
      id: 'c',
      model: 'big',
      choices: [{ index: 0, delta: { content: 'partial' }, finish_reason: null }],
    };
    const oa = await serve(() => ({ chunks: wire.sse([{ data: chunk }]), cut: true }));
    const st = await setup({ openai: oa.url });
    const seen: string[] = [];
    const e = await st.router
      .call(
        { role: 'security', taskType: 'scan' },
        { messages: [{ role: 'user', content: 'x' }], onDelta: (t) => seen.push(t) },
      )
      .catch((x) => x);
    expect(e).toBeInstanceOf(LlmError);
    expect(e.info.partial).toBe(true);
    expect(seen).toEqual(['partial']);
    expect(oa.requests).toHaveLength(1);
  });
});
