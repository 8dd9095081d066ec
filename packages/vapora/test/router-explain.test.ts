import { afterEach, describe, expect, it } from 'vitest';
import { apiKeyProblem, createProvider } from '../src/adapters/llm/index.js';
import { BudgetLedger } from '../src/core/budget.js';
import { LlmError, type LlmProvider } from '../src/core/llm/types.js';
import type { ProviderName } from '../src/core/model.js';
import { PriceTable } from '../src/core/prices.js';
import {
  BudgetExceededError,
  compileRules,
  describeAttempts,
  formatCents,
  LlmRouter,
  type RuleInput,
} from '../src/core/router.js';
import { type FakeServer, fakeServer, type Recorded, type Reply, sqliteStore, wire } from './helpers.js';

// The router over a real store and real HTTP adapters talking to local fake servers in the providers' wire formats.

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const serve = async (script: (n: number, r: Recorded) => Reply) => {
  const s = await fakeServer(script);
  servers.push(s);
  return s;
};

/** A loopback URL where nothing listens (connection refused). */
const closedUrl = async () => {
  const s = await fakeServer(() => ({ hang: true }));
  await s.close();
  return s.url;
};

const PRICES = [
  { provider: 'openai' as const, model: 'big', input: 10, output: 30 },
  { provider: 'openai' as const, model: 'small', input: 1, output: 2 },
  { provider: 'anthropic' as const, model: 'claude', input: 3, output: 15 },
  { provider: 'ollama' as const, model: 'free', input: 0, output: 0 },
];

/** One target, no budget limits, two retries without sleeping between them. */
async function retryingRouter(
  provider: ProviderName,
  model: string,
  make: (n: ProviderName) => LlmProvider,
  maxBackoffMs: number,
): Promise<LlmRouter> {
  return new LlmRouter({
    rules: compileRules([{ pattern: '.*', provider, model }]),
    prices: PriceTable.withOverrides(PRICES),
    ledger: new BudgetLedger(await sqliteStore(), {
      timezone: 'UTC',
      defaults: {},
      onExceeded: 'downgrade',
      reservationTtlMs: 1e6,
    }),
    provider: make,
    retries: 2,
    backoffMs: 1,
    maxBackoffMs,
    defaultMaxOutputTokens: 100,
    sleep: async () => {},
  });
}

async function setup(
  urls: Partial<Record<ProviderName, string>>,
  o: {
    rules?: RuleInput[];
    weeklyCents?: number;
    keys?: Partial<Record<ProviderName, string>>;
  } = {},
) {
  const store = await sqliteStore();
  const ledger = new BudgetLedger(store, {
    timezone: 'UTC',
    defaults: o.weeklyCents === undefined ? {} : { security: { weekly: o.weeklyCents } },
    onExceeded: 'downgrade',
    reservationTtlMs: 600_000,
  });
  const sleeps: number[] = [];
  const router = new LlmRouter({
    rules: compileRules(
      o.rules ?? [{ pattern: '.*', provider: 'openai', model: 'big', fallback: ['openai:small', 'ollama:free'] }],
    ),
    prices: PriceTable.withOverrides(PRICES),
    ledger,
    provider: (n) =>
      createProvider(n, { baseUrl: urls[n] ?? 'http://127.0.0.1:1', apiKey: o.keys?.[n] ?? 'test-key-123' }),
    retries: 0,
    backoffMs: 1,
    maxBackoffMs: 1,
    defaultMaxOutputTokens: 100,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...(o.keys ? { credentialProblem: (p: ProviderName) => apiKeyProblem(p, { apiKey: o.keys?.[p] }) } : {}),
  });
  return { store, ledger, router, sleeps };
}

const ask = { role: 'security' as const, taskType: 'scan' };
const hello = { messages: [{ role: 'user' as const, content: 'hello' }] };

async function thrown(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

describe('a failed call lists every attempt', () => {
  it('garbage (200) then 404: the error has both attempts with URL, status and reason, in one line', async () => {
    const oa = await serve((n) =>
      n === 0
        ? { text: '<html>\n  maintenance\n</html>' }
        : { status: 404, json: wire.openaiError('The model `small` does not exist', 'invalid_request_error') },
    );
    const { router } = await setup({ openai: oa.url });
    const e = (await thrown(router.call(ask, hello))) as LlmError;
    expect(e).toBeInstanceOf(LlmError);
    const url = `${oa.url}/v1/chat/completions`;
    // The body as JSON text (escapes, not line breaks), whitespace runs collapsed.
    const garbage = 'response is not JSON: "<html>\\n maintenance\\n</html>"';
    expect(e.kind).toBe('invalid_request');
    expect(e.attempts).toEqual([
      {
        target: 'openai:big',
        outcome: 'bad_response',
        method: 'POST',
        url,
        status: 200,
        reason: garbage,
        message: `openai POST ${url} → 200, ${garbage}`,
        costMicrocents: 0,
      },
      {
        target: 'openai:small',
        outcome: 'invalid_request',
        method: 'POST',
        url,
        status: 404,
        reason: 'invalid_request_error: The model `small` does not exist',
        message: `openai POST ${url} → 404 invalid_request_error: The model \`small\` does not exist`,
        costMicrocents: 0,
      },
    ]);
    expect(e.message).toBe(
      `openai POST ${url} → 404 invalid_request_error: The model \`small\` does not exist; tried: ` +
        `openai:big (POST ${url} → 200 bad_response: ${garbage}), ` +
        `openai:small (POST ${url} → 404 invalid_request: invalid_request_error: The model \`small\` does not exist)`,
    );
    expect(e.message).not.toMatch(/\n|test-key-123/);
    expect(oa.requests.map((r) => (r.body as { model: string }).model)).toEqual(['big', 'small']);
  });

  it('a refused connection, then a 401: both named, the key never', async () => {
    const ollama = await closedUrl();
    const oa = await serve(() => ({
      status: 401,
      json: wire.openaiError('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'),
    }));
    const { router } = await setup(
      { openai: oa.url, ollama },
      { rules: [{ pattern: '.*', provider: 'ollama', model: 'free', fallback: ['openai:big', 'openai:small'] }] },
    );
    const e = (await thrown(router.call(ask, hello))) as LlmError;
    expect([e.kind, e.attempts?.map((a) => [a.target, a.outcome, a.status])]).toEqual([
      'auth',
      [
        ['ollama:free', 'network', undefined],
        ['openai:big', 'auth', 401],
      ],
    ]);
    expect(e.message).toMatch(
      new RegExp(
        `; tried: ollama:free \\(POST ${ollama}/api/chat → network: ECONNREFUSED\\), ` +
          `openai:big \\(POST ${oa.url}/v1/chat/completions → 401 auth: invalid_request_error: Incorrect API key provided\\)$`,
      ),
    );
    expect(e.message).not.toContain('test-key-123');
    expect(oa.requests).toHaveLength(1); // auth fails fast: openai:small is not tried
  });

  it('retries of one target are counted, not repeated', async () => {
    const oa = await serve(() => ({ status: 500, json: wire.openaiError('boom', 'server_error') }));
    const router = await retryingRouter(
      'openai',
      'small',
      (n) => createProvider(n, { baseUrl: oa.url, apiKey: 'k' }),
      10,
    );
    const e = (await thrown(router.call(ask, hello))) as LlmError;
    expect(e.attempts).toHaveLength(3);
    expect(describeAttempts(e.attempts!)).toBe(
      `openai:small (POST ${oa.url}/v1/chat/completions → 500 server: server_error: boom) ×3`,
    );
  });

  it('a budget refusal carries the attempts too, in .attempts and in details', async () => {
    // A zero weekly budget: exceeded, no priced fallback fits, and there is no free one.
    const { router } = await setup(
      {},
      { weeklyCents: 0, rules: [{ pattern: '.*', provider: 'openai', model: 'big', fallback: ['openai:small'] }] },
    );
    const e = (await thrown(router.call(ask, hello))) as BudgetExceededError;
    expect(e).toBeInstanceOf(BudgetExceededError);
    expect(e.attempts.map((a) => [a.target, a.outcome, a.skipped])).toEqual([['openai:small', 'budget', true]]);
    expect(e.details?.attempts).toEqual(e.attempts);
    expect(e.message).toBe(
      'security cannot call an LLM: budget exceeded (100%): no fallback fits; tried: ' +
        'openai:small (budget: no room in the weekly budget (estimate 0.0221¢, 0.00¢ left))',
    );
  });
});

describe('missing API keys', () => {
  it('are named before any request, in the dry run and in the call alike', async () => {
    const oa = await serve(() => ({ json: wire.openai('never') }));
    const ol = await serve(() => ({ chunks: wire.ollama(['local'], { model: 'free' }) }));
    const { router } = await setup({ openai: oa.url, ollama: ol.url }, { keys: {} });
    const plan = await router.plan(ask, { ...hello, maxTokens: 100 });
    const noKey =
      'no API key for openai: set OPENAI_API_KEY (or [providers.openai] api_key_env / api_key in vapora.toml)';
    expect(plan.candidates.map((c) => c.target)).toEqual([{ provider: 'ollama', model: 'free' }]);
    expect(plan.skipped).toEqual([
      { target: { provider: 'openai', model: 'big' }, reason: noKey, kind: 'credentials' },
      { target: { provider: 'openai', model: 'small' }, reason: noKey, kind: 'credentials' },
    ]);
    expect(plan.reason).toBe(`budget normal, primary left out (${noKey})`);
    const r = await router.call(ask, hello);
    expect([r.target.provider, r.text]).toEqual(['ollama', 'local']);
    expect(r.attempts.map((a) => [a.target, a.outcome, a.skipped])).toEqual([
      ['openai:big', 'auth', true],
      ['openai:small', 'auth', true],
      ['ollama:free', 'ok', undefined],
    ]);
    expect(r.fallbacks).toEqual([{ from: 'openai:big', to: 'ollama:free', reason: 'auth' }]);
    expect(oa.requests).toHaveLength(0);
  });

  it('with no target left the call fails as auth, naming the key, and no request reaches the server', async () => {
    const oa = await serve(() => ({ json: wire.openai('never') }));
    const an = await serve(() => ({ json: wire.anthropic('never') }));
    const { router } = await setup(
      { openai: oa.url, anthropic: an.url },
      {
        keys: { openai: '' },
        rules: [{ pattern: '.*', provider: 'openai', model: 'big', fallback: ['anthropic:claude'] }],
      },
    );
    const plan = await router.plan(ask, { ...hello, maxTokens: 100 });
    expect([plan.blocked, plan.candidates]).toEqual(['no_credentials', []]);
    const e = (await thrown(router.call(ask, hello))) as LlmError;
    expect([e.kind, e.attempts?.map((a) => a.outcome)]).toEqual(['auth', ['auth', 'auth']]);
    expect(e.message).toBe(
      'security cannot call an LLM: no target of the route has an API key; tried: ' +
        'openai:big (auth: no API key for openai: set OPENAI_API_KEY (or [providers.openai] api_key_env / api_key in vapora.toml)), ' +
        'anthropic:claude (auth: no API key for anthropic: set ANTHROPIC_API_KEY (or [providers.anthropic] api_key_env / api_key in vapora.toml))',
    );
    expect([oa.requests.length, an.requests.length]).toEqual([0, 0]);
  });

  it('without credentialProblem the adapter itself refuses before the network', async () => {
    // The provider's own API, no key.
    const router = await retryingRouter('anthropic', 'claude', (n) => createProvider(n, {}), 1);
    const e = (await thrown(router.call(ask, hello))) as LlmError;
    expect([e.kind, e.attempts?.length, e.attempts?.[0]?.url]).toEqual(['auth', 1, undefined]);
    expect(e.message).toMatch(/^no API key for anthropic: set ANTHROPIC_API_KEY .*; tried: anthropic:claude \(auth: /);
  });
});

describe('dry run and real call agree', () => {
  it('a reservation held elsewhere: plan() and call() both skip the target that no longer fits', async () => {
    const oa = await serve((_n, r) => ({
      json: wire.openai('ok', { model: (r.body as { model: string }).model, prompt: 5, completion: 5 }),
    }));
    // 1¢ a week; a call in flight elsewhere holds 0.75¢: 75%, still "normal", 0.25¢ left.
    const { router, ledger } = await setup({ openai: oa.url }, { weeklyCents: 1 });
    const held = await ledger.reserve('security', 750_000);
    expect(held.ok).toBe(true);
    const plan = await router.plan(ask, { ...hello, maxTokens: 100 });
    expect(plan.state).toBe('normal');
    // openai:big reserves (21 input + 100 output tokens) at $10/$30 per M = 0.321¢: more than the 0.25¢ left.
    expect(plan.skipped).toEqual([
      {
        target: { provider: 'openai', model: 'big' },
        reason: 'no room in the weekly budget (estimate 0.321¢, 0.25¢ left)',
        kind: 'budget',
      },
    ]);
    expect(plan.candidates.map((c) => [c.target.model, formatCents(c.estimate)])).toEqual([
      ['small', '0.0221¢'],
      ['free', '0.00¢'],
    ]);
    const r = await router.call(ask, hello);
    expect(r.target).toEqual(plan.candidates[0]!.target);
    expect(oa.requests.map((x) => (x.body as { model: string }).model)).toEqual(['small']);
    expect(r.attempts.map((a) => [a.target, a.outcome])).toEqual([
      ['openai:big', 'budget'],
      ['openai:small', 'ok'],
    ]);
    expect(r.fallbacks).toEqual([{ from: 'openai:big', to: 'openai:small', reason: 'budget' }]);
    // Once released, the primary fits again: both choose it.
    if (held.ok) await ledger.release(held.id);
    const again = await router.plan(ask, { ...hello, maxTokens: 100 });
    expect([again.candidates[0]!.target.model, again.skipped]).toEqual(['big', []]);
    expect((await router.call(ask, hello)).target.model).toBe('big');
  });

  it('money reads as cents with two decimals or more', () => {
    expect([formatCents(1_230_000), formatCents(500_000), formatCents(125), formatCents(0)]).toEqual([
      '1.23¢',
      '0.50¢',
      '0.000125¢',
      '0.00¢',
    ]);
  });
});
