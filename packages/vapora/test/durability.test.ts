import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteDriver } from '@stratumiops/shared/sql/sqlite';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { sqlStore } from '../src/adapters/sql/index.js';
import { BudgetLedger } from '../src/core/budget.js';
import { PriceTable } from '../src/core/prices.js';
import {
  cleanupsAfterAll,
  config,
  type FakeServer,
  fakeServer,
  serveOnLoopback,
  startServe,
  tempDir,
  waitFor,
  wire,
} from './helpers.js';

const cleanups = cleanupsAfterAll();

async function openStore(file: string) {
  const s = sqlStore(new SqliteDriver(file));
  await s.migrate();
  cleanups.push(() => s.close());
  return s;
}

const PRICE = { provider: 'openai' as const, model: 'm', input: 1000, output: 1000 };

describe('in-process bus: as durable as JetStream', { timeout: 60_000 }, () => {
  it('a call four times longer than the ack deadline reaches the provider once (the worker keeps it alive)', async () => {
    const fake = await fakeServer(() => ({
      json: wire.openai('done', { model: 'm', prompt: 5, completion: 5 }),
      delayMs: 1200,
    }));
    cleanups.push(() => fake.close());
    const dir = tempDir();
    const s = await serveOnLoopback(
      config({
        storage: { path: join(dir, 'vapora.db') },
        nats: { ack_wait_ms: 300 },
        providers: { openai: { base_url: fake.url, api_key: 'k' } },
        prices: [PRICE],
      }),
      cleanups,
    );
    const svc = s.runtime.service;
    await svc.addAgent({ role: 'developer', id: 'dev-1', provider: 'openai', model: 'm' });
    const t = await svc.createTask({ title: 'write it', type: 'codegen', role: 'developer' });
    await svc.assign(t.id);
    const done = await waitFor(async () => {
      const x = await svc.getTask(t.id);
      return x.status === 'done' ? x : undefined;
    }, 20_000);
    expect(fake.requests).toHaveLength(1);
    expect(done.result).toMatchObject({ output: 'done', deliveries: 1 });
    expect(await svc.store.listExecutions({ taskId: t.id })).toHaveLength(1);
    expect((await svc.store.listCosts({ taskId: t.id })).map((c) => c.outcome)).toEqual(['ok']);
  });
});

describe('a killed vapora serve', () => {
  it('kill -9 mid-task: after a restart the task runs again and completes once; the lost call is charged, unsettled', async () => {
    let answer = false;
    const fake: FakeServer = await fakeServer(() =>
      answer ? { json: wire.openai('patched', { model: 'm', prompt: 10, completion: 20 }) } : { hang: true },
    );
    cleanups.push(() => fake.close());
    const { cwd, env } = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, { cwd, env });
    expect((await v('init')).code).toBe(0);
    appendFileSync(
      join(cwd, '.vapora', 'vapora.toml'),
      `\n[providers.openai]\nbase_url = "${fake.url}"\napi_key = "k"\n\n[[prices]]\nprovider = "openai"\nmodel = "m"\ninput = 1000\noutput = 1000\n\n[budgets.developer]\nmonthly = 100000\n`,
    );
    expect(
      (await v('agent', 'add', '--role', 'developer', '--provider', 'openai', '--model', 'm', '--name', 'dev-1')).code,
    ).toBe(0);
    const task = JSON.parse(
      (await v('task', 'create', '--type', 'codegen', '--title', 'fix', '--role', 'developer', '--json')).stdout,
    );
    expect((await v('task', 'assign', task.id)).code).toBe(0); // waits in the outbox for serve

    const first = await startServe(cwd, env);
    cleanups.push(() => first.stop('SIGKILL'));
    await waitFor(() => fake.requests.length === 1, 20_000, 'the first call');
    await first.stop('SIGKILL');

    const store = await openStore(join(cwd, '.vapora', 'vapora.db'));
    expect((await store.getTask(task.id))?.status).toBe('doing');
    // The dead process's reservation is not released: it is charged in full (budget show reaps it).
    const budget = JSON.parse((await v('budget', 'show', 'developer', '--json')).stdout).budgets[0];
    expect(budget.month.reserved_cents).toBe(0);
    expect(budget.month.unsettled_cents).toBeGreaterThan(0);
    expect(budget.month.spent_cents).toBe(budget.month.unsettled_cents);

    answer = true;
    const second = await startServe(cwd, env);
    cleanups.push(() => second.stop());
    const done = await waitFor(
      async () => {
        const t = await store.getTask(task.id);
        return t?.status === 'done' ? t : undefined;
      },
      30_000,
      'the task to finish after the restart',
    );
    expect(done.result).toMatchObject({ output: 'patched' });
    expect(fake.requests).toHaveLength(2);
    expect(await store.listExecutions({ taskId: task.id })).toHaveLength(1);
    const costs = await store.listCosts({ taskId: task.id });
    expect(costs.map((c) => c.outcome).sort()).toEqual(['ok', 'unsettled']);

    const unsettled = JSON.parse((await v('costs', 'reconcile', '--json')).stdout).unsettled;
    expect(unsettled).toHaveLength(1);
    const rec = await v('costs', 'reconcile', unsettled[0].id, '--actual-cents', '0', '--json');
    expect([rec.code, JSON.parse(rec.stdout).outcome]).toEqual([0, 'reconciled']);
    expect((await v('costs', 'reconcile', unsettled[0].id, '--actual-cents', '0')).code).toBe(6);
    const after = JSON.parse((await v('budget', 'show', 'developer', '--json')).stdout).budgets[0];
    const ok = costs.find((c) => c.outcome === 'ok')!;
    expect(after.month).toMatchObject({ unsettled_cents: 0, reserved_cents: 0, spent_cents: ok.costMicrocents / 1e6 });
  }, 120_000);

  it('100 concurrent calls, the process killed half way: recorded spend never passes the limit, nothing billed is lost', async () => {
    let answered = 0;
    const fake = await fakeServer(() => {
      answered++;
      return { json: wire.openai('ok', { model: 'm', prompt: 10, completion: 40 }), delayMs: 40 };
    });
    cleanups.push(() => fake.close());
    const dir = tempDir();
    const db = join(dir, 'vapora.db');
    const cfg = config({
      storage: { path: db },
      providers: { openai: { base_url: fake.url, api_key: 'k' } },
      prices: [PRICE],
      budgets: { security: { monthly: 400, weekly: 400 } },
      budget: { on_exceeded: 'block' },
      routing: { rules: [{ pattern: '.*', provider: 'openai', model: 'm' }], retries: 0 },
    });
    const script = join(dir, 'calls.mjs');
    writeFileSync(
      script,
      `import { openRuntime } from ${JSON.stringify(new URL('../dist/runtime.js', import.meta.url).href)};
const rt = await openRuntime({ config: ${JSON.stringify(cfg)} });
process.stdout.write('ready\\n');
await Promise.allSettled(Array.from({ length: 100 }, () =>
  rt.router.call({ role: 'security', taskType: 'scan' }, { messages: [{ role: 'user', content: 'scan' }], maxTokens: 60 })));
process.stdout.write('all done\\n');
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    cleanups.push(async () => child.kill('SIGKILL'));
    await waitFor(() => answered >= 25 || out.includes('all done'), 30_000, `calls under way (${out})`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(out).not.toContain('all done');

    const store = await openStore(db);
    const ledger = new BudgetLedger(store, {
      timezone: 'UTC',
      defaults: { security: { monthly: 400, weekly: 400 } },
      onExceeded: 'block',
      reservationTtlMs: 600_000,
    });
    const charged = await ledger.reapOrphans();
    const st = await ledger.status('security');
    const limit = 400 * 1_000_000;
    const billed = PriceTable.cost(PriceTable.withOverrides([PRICE]).get('openai', 'm')!, {
      inputTokens: 10,
      outputTokens: 40,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    expect(st.month.reserved).toBe(0);
    expect(st.month.spent).toBeLessThanOrEqual(limit);
    // Every answer the provider sent (and billed) is in the records: settled, or charged in full as unsettled.
    expect(st.month.spent).toBeGreaterThanOrEqual(answered * billed);
    const records = await store.listCosts({ role: 'security' });
    expect(records.filter((r) => r.outcome === 'unsettled')).toHaveLength(charged.length);
    expect(charged.length).toBeGreaterThan(0);
    expect(records.reduce((n, r) => n + r.costMicrocents, 0)).toBe(st.month.spent);
  }, 60_000);
});
