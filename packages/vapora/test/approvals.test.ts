import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterAll, config, fakeServer, serveOnLoopback, tempDir, waitFor, wire } from './helpers.js';

const cleanups = cleanupsAfterAll();

describe('budget policy approval', { timeout: 60_000 }, () => {
  it('a call that would pass the budget parks the task; approved, it runs once past the limit; rejected, it fails', async () => {
    const fake = await fakeServer(() => ({ json: wire.openai('written', { model: 'm', prompt: 10, completion: 10 }) }));
    cleanups.push(() => fake.close());
    const s = await serveOnLoopback(
      config({
        storage: { path: join(tempDir(), 'vapora.db') },
        providers: { openai: { base_url: fake.url, api_key: 'k' } },
        // 0.1 cent a token: a call reserves ~ (input bound + 1024 output) × 0.1 ≈ 100 cents; the month allows 5.
        prices: [{ provider: 'openai', model: 'm', input: 1000, output: 1000 }],
        budgets: { developer: { monthly: 5, on_exceeded: 'approval' } },
        // No free local fallback to downgrade to: the only way on is a person's approval.
        routing: { rules: [{ pattern: '.*', provider: 'openai', model: 'm' }] },
      }),
      cleanups,
    );
    const svc = s.runtime.service;
    await svc.addAgent({ role: 'developer', id: 'dev-1', provider: 'openai', model: 'm' });
    const run = async () => {
      const t = await svc.createTask({ title: 'write', type: 'codegen', role: 'developer' });
      await svc.assign(t.id);
      return waitFor(async () => {
        const x = await svc.getTask(t.id);
        return x.status === 'awaiting_approval' ? x : undefined;
      });
    };
    const parked = await run();
    expect(fake.requests).toHaveLength(0);
    const [pending] = await svc.listApprovals();
    expect(pending).toMatchObject({ kind: 'budget', role: 'developer', taskId: parked.id, status: 'pending' });
    // Refused by the budget, not by the agent: its expertise is untouched.
    expect((await svc.agentHealth('dev-1')).executions).toMatchObject({ total: 0, refused_by_budget: 1 });

    await svc.approve(parked.id, { reason: 'release blocker' });
    const done = await waitFor(async () => {
      const x = await svc.getTask(parked.id);
      return x.status === 'done' ? x : undefined;
    });
    expect(done).toMatchObject({ overBudgetApproved: true, result: { output: 'written' } });
    expect(fake.requests).toHaveLength(1);
    const [b] = await svc.budgets('developer');
    // Its reservation (~115¢) did not fit the 5¢ left; the real cost (20 tokens at 0.1¢) is what is recorded.
    expect(b!.month).toMatchObject({ spent_cents: 2, reserved_cents: 0 });

    const second = await run(); // the approval was for that task only
    await svc.reject(second.id, { reason: 'not worth it' });
    expect(await svc.getTask(second.id)).toMatchObject({ status: 'failed', error: 'rejected by local: not worth it' });
    expect(fake.requests).toHaveLength(1);
  });
});
