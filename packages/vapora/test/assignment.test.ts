import { describe, expect, it } from 'vitest';
import { confidence, pickAgent, rankAgents, score } from '../src/core/assignment.js';
import type { Agent } from '../src/core/model.js';
import type { ExecStats } from '../src/core/store.js';
import { openRuntime } from '../src/runtime.js';
import { config, execResult, tempDir } from './helpers.js';

const NOW = Date.UTC(2026, 10, 22, 12);
const opts = { now: NOW, heartbeatTimeoutMs: 60_000 };
const agent = (id: string, o: Partial<Agent> = {}): Agent => ({
  id,
  role: 'devops',
  provider: 'exec',
  model: 'true',
  status: 'ready',
  load: 0,
  capacity: 1,
  lastHeartbeat: NOW - 1000,
  createdAt: NOW,
  ...o,
});
const stats = (agentId: string, nRecent: number, sRecent: number, nOld = 0, sOld = 0): ExecStats => ({
  agentId,
  role: 'devops',
  nRecent,
  sRecent,
  nOld,
  sOld,
});

describe('assignment scoring', () => {
  it('is 0.3·(1 − load) + 0.5·expertise + 0.2·confidence, with the arithmetic shown', () => {
    const r = rankAgents([agent('a', { load: 0.2 })], [stats('a', 10, 9, 10, 5)], opts);
    // expertise = (3·9 + 5) / (3·10 + 10) = 0.8; confidence = 20/25 = 0.8
    expect(r.chosen).toMatchObject({
      agentId: 'a',
      expertise: 0.8,
      confidence: 0.8,
      samples: 20,
      expertiseFrom: 'agent',
    });
    expect(r.chosen!.score).toBeCloseTo(0.3 * 0.8 + 0.5 * 0.8 + 0.2 * 0.8, 6);
    expect(r.chosen!.explain).toBe('0.3×(1−0.20) + 0.5×0.800 + 0.2×0.800 = 0.800');
  });

  it('confidence keeps a lucky 1-for-1 agent below a 95-for-100 one', () => {
    expect(confidence(0)).toBe(0);
    expect(confidence(1)).toBeCloseTo(1 / 6);
    expect(confidence(100)).toBeCloseTo(100 / 105);
    const r = rankAgents([agent('lucky'), agent('proven')], [stats('lucky', 1, 1), stats('proven', 100, 95)], opts);
    expect(r.chosen!.agentId).toBe('proven');
    expect(score(0, 1, confidence(1))).toBeLessThan(score(0, 0.95, confidence(100)));
  });

  it('weights the last 7 days 3×', () => {
    // a: recently good, long ago bad; b: the opposite. Same raw success count.
    const r = rankAgents([agent('a'), agent('b')], [stats('a', 5, 5, 5, 0), stats('b', 5, 0, 5, 5)], opts);
    expect(r.candidates.map((c) => [c.agentId, c.expertise])).toEqual([
      ['a', 0.75],
      ['b', 0.25],
    ]);
  });

  it('prefers the idle agent, and breaks exact ties by load then id', () => {
    expect(rankAgents([agent('busy', { load: 0.5 }), agent('idle')], [], opts).chosen!.agentId).toBe('idle');
    const tie = rankAgents([agent('b'), agent('a'), agent('c')], [], opts);
    expect(tie.candidates.map((c) => c.agentId)).toEqual(['a', 'b', 'c']);
    expect(pickAgent([agent('b'), agent('a'), agent('c')], new Map(), opts)?.agentId).toBe('a');
  });

  it('never chooses offline, stale, silent or full agents, and says why', () => {
    const r = rankAgents(
      [
        agent('off', { status: 'offline' }),
        agent('stale', { lastHeartbeat: NOW - 61_000 }),
        agent('silent', { lastHeartbeat: null }),
        agent('full', { load: 1 }),
        agent('ok', { load: 0.9 }),
        agent('other-role', { role: 'security' }),
      ],
      [stats('off', 100, 100), stats('stale', 100, 100)],
      { ...opts, role: 'devops' },
    );
    expect(r.chosen!.agentId).toBe('ok');
    expect(r.candidates.map((c) => [c.agentId, c.reason ?? 'eligible'])).toEqual([
      ['ok', 'eligible'],
      ['full', 'full (load 1.0)'],
      ['off', 'offline'],
      ['silent', 'no heartbeat yet'],
      ['stale', 'stale heartbeat (61 s ago)'],
    ]);
    expect(pickAgent([agent('off', { status: 'offline' })], new Map(), opts)).toBeUndefined();
  });

  it('an agent without history of the type gets its role pooled expertise, with confidence 0', () => {
    const r = rankAgents([agent('new'), agent('old')], [stats('old', 4, 4)], opts);
    const n = r.candidates.find((c) => c.agentId === 'new')!;
    expect([n.expertise, n.expertiseFrom, n.confidence]).toEqual([1, 'role', 0]);
  });
});

describe('assignment through the service', () => {
  it('picks by the formula and learns from new executions', async () => {
    let now = NOW;
    const rt = await openRuntime({
      config: config({ storage: { path: `${tempDir()}/v.db` }, approvals: { roles: [] } }),
      now: () => now,
    });
    const s = rt.service;
    await s.addAgent({ role: 'devops', id: 'dev-a', provider: 'exec', command: 'true' });
    await s.addAgent({ role: 'devops', id: 'dev-b', provider: 'exec', command: 'true' });
    const result = async (taskId: string, agentId: string, ok: boolean) => {
      const t = await s.getTask(taskId);
      await s.applyResult(
        execResult({
          task_id: taskId,
          assignment_id: t.assignmentId!,
          agent_id: agentId,
          agent_role: 'devops',
          task_type: 'deploy',
          status: ok ? 'success' : 'failure',
          output: 'x',
          started_at: now,
          duration_ms: 5,
          model: 'true',
        }),
      );
    };
    // Equal at first: the tie goes to dev-a. dev-a fails, dev-b (forced) succeeds, three times.
    for (let i = 0; i < 3; i++) {
      const ta = await s.createTask({ title: `a${i}`, type: 'deploy', role: 'devops' });
      const first = await s.assign(ta.id);
      if (i === 0) expect(first.chosen!.agentId).toBe('dev-a');
      await result(ta.id, first.chosen!.agentId, first.chosen!.agentId === 'dev-b');
      const tb = await s.createTask({ title: `b${i}`, type: 'deploy', role: 'devops' });
      const forced = await s.assign(tb.id, { agentId: 'dev-b' });
      await result(tb.id, 'dev-b', true);
      expect(forced.chosen!.agentId).toBe('dev-b');
      now += 1000;
    }
    const t = await s.createTask({ title: 'next', type: 'deploy', role: 'devops' });
    const r = await s.assign(t.id, { dryRun: true });
    expect(r.chosen!.agentId).toBe('dev-b');
    const [b, a] = r.candidates;
    expect(b!.expertise).toBeGreaterThan(a!.expertise);
    expect(r.task.status).toBe('todo'); // a dry run writes nothing
    // Another task type has no history: back to the tie rule.
    const other = await s.createTask({ title: 'o', type: 'backup', role: 'devops' });
    expect((await s.assign(other.id, { dryRun: true })).chosen!.agentId).toBe('dev-a');
    await rt.close();
  });

  it('bad input: unknown roles, malformed payloads, double assignment, nobody to assign', async () => {
    const rt = await openRuntime({
      config: config({ storage: { path: `${tempDir()}/v.db` }, approvals: { roles: [] } }),
    });
    const s = rt.service;
    await expect(s.addAgent({ role: 'wizard' })).rejects.toMatchObject({
      code: 'validation',
      message: expect.stringMatching(/unknown role 'wizard'/),
    });
    await expect(s.createTask({ title: 'x', type: 'deploy', payload: [1, 2] })).rejects.toMatchObject({
      code: 'validation',
    });
    await expect(s.createTask({ title: 'x', type: 'has space' })).rejects.toMatchObject({ code: 'validation' });
    await expect(s.createTask({ title: 'x', type: 'deploy', project: 'nope' })).rejects.toMatchObject({
      code: 'notFound',
    });
    await expect(s.addAgent({ role: 'devops', provider: 'ollama', model: 'unpriced:1b' })).rejects.toMatchObject({
      code: 'validation',
      message: expect.stringMatching(/no price entry/),
    });
    const t = await s.createTask({ title: 'x', type: 'deploy', role: 'security' });
    await expect(s.assign(t.id)).rejects.toMatchObject({ code: 'unavailable' });
    await s.addAgent({ role: 'security', id: 'sec-1', provider: 'exec', command: 'true' });
    await s.assign(t.id);
    await expect(s.assign(t.id)).rejects.toMatchObject({ code: 'conflict' });
    expect((await s.getTask(t.id)).status).toBe('doing'); // a rejected input changed nothing
    expect(await s.store.listTasks()).toHaveLength(1);
    await rt.close();
  });
});
