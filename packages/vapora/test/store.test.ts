import { PostgresDriver } from '@stratumiops/shared/sql/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import { createProvider } from '../src/adapters/llm/index.js';
import { SCHEMA_VERSION, sqlStore } from '../src/adapters/sql/index.js';
import { type BudgetAlert, BudgetLedger, noRoom } from '../src/core/budget.js';
import type { Agent, CostRecord, Task } from '../src/core/model.js';
import { periodKeys } from '../src/core/periods.js';
import { PriceTable } from '../src/core/prices.js';
import { BudgetExceededError, compileRules, LlmRouter } from '../src/core/router.js';
import type { Store } from '../src/core/store.js';
import { fakeServer, sqliteStore, tempDir, wire } from './helpers.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0); // Sunday 2026-11-22: ISO week 2026-W47

const task = (id: string, o: Partial<Task> = {}): Task => ({
  id,
  projectId: null,
  title: `task ${id}`,
  description: '',
  type: 'manifest_validation',
  role: 'devops',
  priority: 'normal',
  status: 'todo',
  payload: { host: 'db-1', nested: { n: 1, list: [1, 'two'] } },
  result: null,
  error: null,
  agentId: null,
  assignmentId: null,
  attempt: 0,
  dispatchedAt: null,
  createdAt: NOW,
  updatedAt: NOW,
  startedAt: null,
  finishedAt: null,
  ...o,
});

const agent = (id: string, o: Partial<Agent> = {}): Agent => ({
  id,
  role: 'devops',
  provider: 'anthropic',
  model: 'claude-sonnet-4-6',
  status: 'ready',
  load: 0,
  capacity: 2,
  lastHeartbeat: NOW,
  createdAt: NOW,
  ...o,
});

const cost = (o: Partial<CostRecord> & Pick<CostRecord, 'costMicrocents'>): CostRecord => ({
  id: `c-${Math.random()}`,
  requestId: 'r',
  taskId: null,
  role: 'security',
  taskType: 'scan',
  provider: 'openai',
  model: 'm',
  servedModel: 'm',
  inputTokens: 1,
  outputTokens: 1,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  priceVersion: 'v',
  outcome: 'ok',
  fallbackFrom: null,
  monthKey: '2026-11',
  weekKey: '2026-W47',
  createdAt: NOW,
  ...o,
});

let pgServer: PostgresServer | undefined;
let dbCount = 0;
const pgStores: Store[] = [];

async function newPgStore(): Promise<Store> {
  const admin = new pg.Client({ connectionString: pgServer!.url });
  await admin.connect();
  const name = `vapora_t${++dbCount}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const s = sqlStore(new PostgresDriver(pgServer!.url.replace(/\/postgres$/, `/${name}`), 10));
  await s.migrate();
  pgStores.push(s);
  return s;
}

const backends: [string, () => Promise<Store>, boolean][] = [
  ['sqlite', () => sqliteStore(tempDir()), false],
  ['postgresql', newPgStore, skipUnless('postgres')],
];

beforeAll(async () => {
  if (!skipUnless('postgres')) pgServer = await startPostgres();
});
afterAll(async () => {
  for (const s of pgStores) await s.close().catch(() => {});
  await pgServer?.stop();
});

describe.each(backends)('store on %s', (_name, open, skip) => {
  it.skipIf(skip)('migrates once, idempotently', async () => {
    const s = await open();
    expect(await s.migrate()).toBe(SCHEMA_VERSION);
    expect(await s.migrate()).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(3);
  });

  it.skipIf(skip)('projects: CRUD, names unique (conflict), lookup by id or name', async () => {
    const s = await open();
    await s.createProject({ id: 'p-1', name: 'infra', description: 'd', createdAt: NOW, updatedAt: NOW });
    await expect(
      s.createProject({ id: 'p-2', name: 'infra', description: '', createdAt: NOW, updatedAt: NOW }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
    expect((await s.getProject('infra'))?.id).toBe('p-1');
    expect((await s.getProject('p-1'))?.name).toBe('infra');
    expect((await s.updateProject('p-1', { description: 'platform' }, NOW + 1))?.description).toBe('platform');
    await s.createTask(task('t-1', { projectId: 'p-1' }));
    expect(await s.deleteProject('p-1')).toBe(true);
    expect(await s.getTask('t-1')).toBeUndefined();
    expect(await s.listProjects()).toEqual([]);
  });

  it.skipIf(skip)('tasks: JSON payload round trip, filters, priority order, compare-and-set updates', async () => {
    const s = await open();
    await s.createTask(task('t-1'));
    await s.createTask(task('t-2', { priority: 'critical', role: 'security', createdAt: NOW + 5 }));
    await s.createTask(task('t-3', { status: 'done' }));
    expect((await s.getTask('t-1'))?.payload).toEqual({ host: 'db-1', nested: { n: 1, list: [1, 'two'] } });
    expect((await s.listTasks({ status: 'todo' })).map((t) => t.id)).toEqual(['t-2', 't-1']);
    expect((await s.listTasks({ role: 'security' })).map((t) => t.id)).toEqual(['t-2']);
    expect(await s.updateTask('t-1', { title: 'x' }, { status: ['doing'] })).toBeUndefined();
    expect((await s.updateTask('t-1', { title: 'x', result: { ok: 1 } }, { status: ['todo'] }))?.result).toEqual({
      ok: 1,
    });
  });

  it.skipIf(skip)('assign then apply a result: once per assignment, stale ones ignored, load follows', async () => {
    const s = await open();
    await s.createAgent(agent('a-1'));
    await s.createTask(task('t-1'));
    await expect(s.createAgent(agent('a-1'))).rejects.toMatchObject({ code: 'conflict' });
    const t = await s.assign({ taskId: 't-1', agentId: 'a-1', assignmentId: 'as-1', from: ['todo'], now: NOW });
    expect(t).toMatchObject({ status: 'doing', agentId: 'a-1', assignmentId: 'as-1', attempt: 1, dispatchedAt: null });
    expect((await s.getAgent('a-1'))?.load).toBeCloseTo(0.5);
    expect(
      await s.assign({ taskId: 't-1', agentId: 'a-1', assignmentId: 'as-2', from: ['todo'], now: NOW }),
    ).toBeUndefined();
    expect((await s.undispatched(10)).map((x) => x.id)).toEqual(['t-1']);
    const execution = {
      id: 'e-1',
      taskId: 't-1',
      agentId: 'a-1',
      role: 'devops' as const,
      taskType: 'manifest_validation',
      assignmentId: 'as-1',
      startedAt: NOW,
      finishedAt: NOW + 10,
      durationMs: 10,
      inputTokens: 3,
      outputTokens: 4,
      costMicrocents: 5,
      outcome: 'success' as const,
      error: null,
    };
    const apply = (assignmentId: string) =>
      s.applyResult({
        taskId: 't-1',
        assignmentId,
        status: 'done',
        result: { output: 'ok' },
        error: null,
        execution: { ...execution, assignmentId },
        now: NOW + 10,
      });
    expect(await apply('as-old')).toBe(false);
    expect(await apply('as-1')).toBe(true);
    expect(await apply('as-1')).toBe(false);
    expect(await s.getTask('t-1')).toMatchObject({ status: 'done', result: { output: 'ok' }, finishedAt: NOW + 10 });
    expect((await s.getAgent('a-1'))?.load).toBe(0);
    expect(await s.listExecutions({ taskId: 't-1' })).toHaveLength(1);
  });

  it.skipIf(skip)('execution stats split at the recency boundary; stale agents go offline', async () => {
    const s = await open();
    await s.createAgent(agent('a-1'));
    await s.createAgent(agent('a-2', { lastHeartbeat: NOW - 120_000 }));
    const rows: [string, string, number][] = [
      ['a-1', 'success', NOW - 1000],
      ['a-1', 'failure', NOW - 1000],
      ['a-1', 'success', NOW - 10 * 86_400_000],
      ['a-2', 'success', NOW - 1000],
    ];
    for (const [i, [a, outcome, at]] of rows.entries()) {
      await s.createTask(task(`t-${i}`, { status: 'doing', assignmentId: `as-${i}`, agentId: a }));
      await s.applyResult({
        taskId: `t-${i}`,
        assignmentId: `as-${i}`,
        status: 'done',
        result: null,
        error: null,
        now: at,
        execution: {
          id: `e-${i}`,
          taskId: `t-${i}`,
          agentId: a,
          role: 'devops',
          taskType: 'deploy',
          assignmentId: `as-${i}`,
          startedAt: null,
          finishedAt: at,
          durationMs: 1,
          inputTokens: 0,
          outputTokens: 0,
          costMicrocents: 0,
          outcome: outcome as 'success',
          error: null,
        },
      });
    }
    const stats = await s.executionStats('deploy', NOW - 7 * 86_400_000);
    expect(stats).toEqual([
      { agentId: 'a-1', role: 'devops', nRecent: 2, sRecent: 1, nOld: 1, sOld: 1 },
      { agentId: 'a-2', role: 'devops', nRecent: 1, sRecent: 1, nOld: 0, sOld: 0 },
    ]);
    expect(await s.executionStats('other', NOW)).toEqual([]);
    expect(await s.markStaleOffline(NOW - 60_000)).toEqual(['a-2']);
    expect((await s.getAgent('a-2'))?.status).toBe('offline');
  });

  it.skipIf(skip)(
    'reserve admits only what fits both periods; settle moves it to spent; orphans are charged in full, unsettled',
    async () => {
      const s = await open();
      const keys = periodKeys(NOW);
      const limits = { month: 1000, week: 600 };
      await s.heartbeatOwner({ id: 'me', host: 'h', pid: 1, lastSeen: NOW });
      const r = (id: string, amount: number, now = NOW, owner = 'me') =>
        s.reserve({
          id,
          role: 'security',
          keys,
          amount,
          limits,
          fits: noRoom,
          now,
          ttlMs: 60_000,
          owner,
          ownerStaleBefore: now - 30_000,
          meta: { target: 'openai:gpt-4o', taskId: 't-1', taskType: 'scan', requestId: `req-${id}` },
        });
      expect((await r('r1', 400)).ok).toBe(true);
      expect(await r('r2', 300)).toEqual({ ok: false, period: 'week', limit: 600, spent: 0, reserved: 400 });
      const spend = await s.settle('r1', cost({ costMicrocents: 150 }));
      expect(spend.week).toMatchObject({ period: '2026-W47', spent: 150, reserved: 0 });
      expect(spend.month).toMatchObject({ period: '2026-11', spent: 150, reserved: 0 });
      expect((await r('r3', 450)).ok).toBe(true);
      expect((await r('r4', 1)).ok).toBe(false);
      // r3 outlives its deadline (its process died): the next reserve charges it in full, never gives it back.
      await s.heartbeatOwner({ id: 'me', host: 'h', pid: 1, lastSeen: NOW + 61_000 });
      expect(await r('r5', 1, NOW + 61_000)).toMatchObject({ ok: false, spent: 600, reserved: 0 });
      expect(await s.spend('security', keys)).toMatchObject({
        week: { spent: 600, reserved: 0, unsettled: 450 },
        month: { spent: 600, reserved: 0, unsettled: 450 },
      });
      const unsettled = await s.listCosts({ outcome: 'unsettled' });
      expect(unsettled).toMatchObject([
        { id: 'unsettled-r3', costMicrocents: 450, provider: 'openai', model: 'gpt-4o', taskId: 't-1' },
      ]);
      // A person enters the provider's figure: spend moves by the difference.
      expect(await s.reconcileCost('unsettled-r3', 100, NOW + 62_000)).toMatchObject({
        outcome: 'reconciled',
        costMicrocents: 100,
      });
      expect(await s.reconcileCost('unsettled-r3', 100, NOW + 62_000)).toBeUndefined();
      expect(await s.spend('security', keys)).toMatchObject({ week: { spent: 250, reserved: 0, unsettled: 0 } });
      expect((await r('r6', 300, NOW + 61_000)).ok).toBe(true);
      expect(await s.release('r6')).toBe(true);
      expect(await s.release('r6')).toBe(false);
      // An owner that stops heartbeating: its reservation is charged by settleOrphans, and a dead pid at once.
      await s.heartbeatOwner({ id: 'other', host: 'h', pid: 2, lastSeen: NOW + 61_000 });
      expect((await r('r7', 50, NOW + 61_000, 'other')).ok).toBe(true);
      expect(await s.settleOrphans({ now: NOW + 62_000, ownerStaleBefore: NOW, deadOwners: [] })).toEqual([]);
      const charged = await s.settleOrphans({ now: NOW + 62_000, ownerStaleBefore: NOW, deadOwners: ['other'] });
      expect(charged.map((c) => [c.id, c.costMicrocents, c.outcome])).toEqual([['unsettled-r7', 50, 'unsettled']]);
      expect((await s.listOwners()).map((o) => o.id)).toEqual(['me']);
      // The "dead" process was only stalled: its real figure replaces the full charge when it settles at last.
      await s.settle('r7', cost({ id: 'late', costMicrocents: 20 }));
      expect(await s.spend('security', keys)).toMatchObject({ week: { spent: 270, reserved: 0, unsettled: 0 } });
      const records = (await s.listCosts({ role: 'security' })).map((c) => [c.costMicrocents, c.outcome]);
      expect(records.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
        [20, 'ok'],
        [100, 'reconciled'],
        [150, 'ok'],
      ]);
    },
  );

  it.skipIf(skip)('alert ids are inserted once', async () => {
    const s = await open();
    const a = {
      id: 'budget:security:2026-11:near_threshold',
      role: 'security' as const,
      period: '2026-11',
      level: 'near_threshold',
      ratio: 0.8,
      now: NOW,
    };
    expect(await s.insertAlert(a)).toBe(true);
    expect(await s.insertAlert(a)).toBe(false);
  });

  it.skipIf(skip)(
    'a budget holds under 100 concurrent LLM calls: never overspent, nothing left reserved, one alert per level',
    async () => {
      const s = await open();
      // A real HTTP provider (OpenAI wire format) that takes a little time, so that the calls overlap.
      const server = await fakeServer(() => ({
        json: wire.openai('ok', { model: 'pricey', prompt: 10, completion: 40 }),
        delayMs: 15,
      }));
      const alerts: BudgetAlert[] = [];
      const ledger = new BudgetLedger(
        s,
        {
          timezone: 'UTC',
          defaults: { security: { monthly: 100, weekly: 100 } },
          onExceeded: 'block',
          reservationTtlMs: 600_000,
        },
        { onAlert: (a) => void alerts.push(a) },
      );
      // $1000 per 1M tokens: 0.1 cent a token. Reserve: (bound of "scan" ≈ 20 tokens + 100 output) × 0.1 ≈ 12 cents.
      const prices = PriceTable.withOverrides([{ provider: 'openai', model: 'pricey', input: 1000, output: 1000 }]);
      const router = new LlmRouter({
        rules: compileRules([{ pattern: '.*', provider: 'openai', model: 'pricey', fallback: [] }]),
        prices,
        ledger,
        provider: (n) => createProvider(n, { baseUrl: server.url }),
        retries: 0,
        backoffMs: 1,
        maxBackoffMs: 1,
        defaultMaxOutputTokens: 100,
      });
      // Rounds of 100 concurrent calls until the budget admits none: after every round, never above the limit.
      const limit = 100 * 1_000_000;
      const ok: unknown[] = [];
      let refused = 0;
      for (let round = 0; round < 30; round++) {
        const results = await Promise.allSettled(
          Array.from({ length: 100 }, () =>
            router.call({ role: 'security', taskType: 'scan' }, { messages: [{ role: 'user', content: 'scan' }] }),
          ),
        );
        for (const r of results) {
          if (r.status === 'fulfilled') ok.push(r.value);
          else {
            expect(r.reason).toBeInstanceOf(BudgetExceededError);
            refused++;
          }
        }
        const mid = await s.spend('security', ledger.keys());
        expect(mid.month.spent).toBeLessThanOrEqual(limit);
        expect(mid.month.reserved).toBe(0);
        if (results.every((r) => r.status === 'rejected')) break;
      }
      await server.close();
      const spend = await s.spend('security', ledger.keys());
      expect(spend.week.reserved).toBe(0);
      expect(spend.month.spent).toBe(ok.length * 5 * 1_000_000); // 50 tokens × 0.1 cent each
      expect(refused).toBeGreaterThan(0);
      expect(server.requests.length).toBe(ok.length);
      const costs = await s.listCosts({ role: 'security' });
      expect(costs.every((c) => c.priceVersion === prices.version && c.servedModel === 'pricey')).toBe(true);
      // Settled spend ends at 90 cents (one more 12-cent reservation would not fit): near threshold, once per period.
      const k = ledger.keys();
      expect(spend.month.spent).toBe(90 * 1_000_000);
      expect(alerts.map((a) => a.id).sort()).toEqual([
        `budget:security:${k.month}:near_threshold`,
        `budget:security:${k.week}:near_threshold`,
      ]);
    },
  );
});
