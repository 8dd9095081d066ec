import { describe, expect, it } from 'vitest';
import { CycleError, topoSort } from '../src/core/graph.js';
import { backoffMs, defaultRetry, type OrchTask, runDag } from '../src/core/orchestrator.js';
import { computePlan, diffAttrs, summaryLine } from '../src/core/plan.js';
import { maskSensitive } from '../src/core/sensitive.js';

const task = (id: string, deps: string[] = [], run?: () => Promise<unknown>, log?: string[]): OrchTask => ({
  id,
  deps,
  run: run ?? (async () => id),
  rollback: async () => {
    log?.push(`undo ${id}`);
  },
});

describe('graph and orchestrator', () => {
  it('orders by dependencies and names a cycle', () => {
    expect(
      topoSort([
        { id: 'c', deps: ['b'] },
        { id: 'b', deps: ['a'] },
        { id: 'a', deps: [] },
      ]),
    ).toEqual(['a', 'b', 'c']);
    const nodes = [
      { id: 'a', deps: ['c'] },
      { id: 'b', deps: ['a'] },
      { id: 'c', deps: ['b'] },
      { id: 'd', deps: [] },
    ];
    expect(() => topoSort(nodes)).toThrow(CycleError);
    try {
      topoSort(nodes);
    } catch (e) {
      expect((e as Error).message).toBe('dependency cycle: a → c → b → a');
      expect((e as CycleError).exitCode).toBe(3);
    }
  });

  it('never runs more than --parallelism tasks at once and starts a task only after its dependencies', async () => {
    let running = 0;
    let peak = 0;
    const finished = new Set<string>();
    const mk = (id: string, deps: string[]) =>
      task(id, deps, async () => {
        for (const d of deps) expect(finished.has(d)).toBe(true);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        finished.add(id);
      });
    const tasks = Array.from({ length: 30 }, (_, i) => mk(`t${i}`, i >= 10 ? [`t${i - 10}`] : []));
    const r = await runDag(tasks, { parallelism: 4 });
    expect(r.ok).toBe(true);
    expect(peak).toBe(4);
    expect(r.done).toHaveLength(30);
  });

  it('retries with exponential backoff (1 s, ×2, capped) and only retryable errors', async () => {
    expect([1, 2, 3, 4, 7, 8].map((a) => backoffMs(defaultRetry, a))).toEqual([1000, 2000, 4000, 8000, 60000, 60000]);
    const waits: number[] = [];
    let calls = 0;
    const flaky = task('flaky', [], async () => {
      if (++calls < 3) throw Object.assign(new Error('throttled'), { retryable: true });
      return 'ok';
    });
    const r = await runDag([flaky], { parallelism: 1, sleep: async (ms) => void waits.push(ms) });
    expect(r.ok).toBe(true);
    expect(waits).toEqual([1000, 2000]);
    const hard = task('hard', [], async () => {
      throw new Error('exit 1');
    });
    const waits2: number[] = [];
    const r2 = await runDag([hard], { parallelism: 1, sleep: async (ms) => void waits2.push(ms) });
    expect(r2.failed.map((f) => f.id)).toEqual(['hard']);
    expect(waits2).toEqual([]);
    let n = 0;
    const always = task('always', [], async () => {
      n++;
      throw Object.assign(new Error('down'), { retryable: true });
    });
    const waits3: number[] = [];
    await runDag([always], { parallelism: 1, sleep: async (ms) => void waits3.push(ms) });
    expect(n).toBe(4);
    expect(waits3).toEqual([1000, 2000, 4000]);
  });

  it('on failure: nothing new starts, running tasks finish, completed ones are undone in reverse order', async () => {
    const log: string[] = [];
    const tasks = [
      task('a', [], undefined, log),
      task('b', ['a'], undefined, log),
      task(
        'c',
        ['b'],
        async () => {
          throw new Error('boom');
        },
        log,
      ),
      task('d', ['c'], undefined, log),
    ];
    const r = await runDag(tasks, { parallelism: 2 });
    expect(r.failed.map((f) => f.id)).toEqual(['c']);
    expect(r.skipped).toEqual(['d']);
    expect(log).toEqual(['undo b', 'undo a']);
    expect(r.rolledBack).toEqual(['b', 'a']);
    const kept: string[] = [];
    const r2 = await runDag(
      [task('a', [], undefined, kept), task('c', ['a'], async () => Promise.reject(new Error('x')), kept)],
      {
        parallelism: 1,
        rollback: false,
      },
    );
    expect(r2.rolledBack).toEqual([]);
    expect(kept).toEqual([]);
  });

  it('resumes: tasks done before are not run again and are rolled back with the others', async () => {
    const ran: string[] = [];
    const log: string[] = [];
    const mk = (id: string, deps: string[], fail = false) =>
      task(
        id,
        deps,
        async () => {
          ran.push(id);
          if (fail) throw new Error('x');
        },
        log,
      );
    const r = await runDag([mk('a', []), mk('b', ['a']), mk('c', ['b'])], {
      parallelism: 1,
      done: new Map([['a', 'a']]),
    });
    expect(ran).toEqual(['b', 'c']);
    expect(r.done).toEqual(['a', 'b', 'c']);
    const r2 = await runDag([mk('a', []), mk('b', ['a']), mk('c', ['b'], true)], {
      parallelism: 1,
      done: new Map([['a', 'a']]),
    });
    expect(r2.rolledBack).toEqual(['b', 'a']);
  });

  it('undo: starts nothing and undoes every completed task in reverse, even with rollback off', async () => {
    const ran: string[] = [];
    const log: string[] = [];
    const mk = (id: string, deps: string[]) =>
      task(
        id,
        deps,
        async () => {
          ran.push(id);
        },
        log,
      );
    const r = await runDag([mk('a', []), mk('b', ['a']), mk('c', ['b']), mk('d', ['c'])], {
      parallelism: 1,
      rollback: false,
      undo: true,
      done: new Map([
        ['a', 'a'],
        ['b', 'b'],
        ['c', 'c'],
      ]),
    });
    expect(ran).toEqual([]);
    expect(log).toEqual(['undo c', 'undo b', 'undo a']);
    expect(r.rolledBack).toEqual(['c', 'b', 'a']);
    expect(r.skipped).toEqual([]);
  });

  it('runs a 1,000-task no-op DAG, each task after its dependency (speed belongs to the benchmarks)', async () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => task(`t${i}`, i > 0 ? [`t${Math.floor(i / 2)}`] : []));
    const r = await runDag(tasks, { parallelism: 10 });
    expect(r.done).toHaveLength(1000);
    const at = new Map(r.done.map((id, i) => [id, i]));
    for (let i = 1; i < 1000; i++) expect(at.get(`t${i}`)!).toBeGreaterThan(at.get(`t${Math.floor(i / 2)}`)!);
  });
});

describe('plan', () => {
  const providers = { replaceOn: (_p: string, kind: string) => (kind === 'server' ? ['spec.os'] : []) };
  const meta = { serial: 3, lineage: 'L' };
  const rec = (address: string, attrs: Record<string, unknown>) => ({
    address,
    kind: address.split('.')[0]!,
    name: address.split('.')[1]!,
    provider: 'aws',
    attrs,
    outputs: {},
    deps: [],
    sensitive: [],
    updated_at: '',
  });
  const want = (address: string, attrs: Record<string, unknown>) => ({
    address,
    kind: address.split('.')[0]!,
    name: address.split('.')[1]!,
    provider: 'aws',
    attrs,
    deps: [],
  });

  it('classifies create / update / replace / delete / no-op with per-attribute diffs and drift', () => {
    const plan = computePlan({
      desired: [
        want('server.new', { a: 1 }),
        want('server.same', { a: 1 }),
        want('server.tag', { tags: { env: 'b' } }),
        want('server.os', { spec: { os: { version: '24.04' } } }),
      ],
      state: [
        rec('server.same', { a: 1 }),
        rec('server.tag', { tags: { env: 'a' } }),
        rec('server.os', { spec: { os: { version: '22.04' } } }),
        rec('server.old', { a: 1 }),
      ],
      refreshed: new Map([
        ['server.same', { a: 1 }],
        ['server.tag', { tags: { env: 'x' } }],
        ['server.os', {}],
        ['server.old', {}],
      ]),
      providers,
      operation: 'apply',
      meta,
      config: null,
    });
    const by = Object.fromEntries(plan.changes.map((c) => [c.address, c]));
    expect(by['server.new']!.action).toBe('create');
    expect(by['server.same']!.action).toBe('noop');
    expect(by['server.tag']!.action).toBe('update');
    expect(by['server.tag']!.changes).toEqual([{ path: 'tags.env', before: 'x', after: 'b', drift: true }]);
    expect(by['server.tag']!.drift).toEqual([{ path: 'tags.env', before: 'a', after: 'x', drift: true }]);
    expect(by['server.os']!.action).toBe('replace');
    expect(by['server.os']!.changes[0]).toMatchObject({ path: 'spec.os.version', forcesReplace: true });
    expect(by['server.old']!.action).toBe('delete');
    expect(summaryLine(plan)).toBe('Plan: 2 to add, 1 to change, 2 to destroy.');
  });

  it('masks secrets in plans and state but keeps references', () => {
    const m = maskSensitive({
      config: { password: 'hunter2', token_ref: 'x', api_token: 'svault://secret/data/a#t', port: 1 },
    });
    expect(JSON.stringify(m.attrs)).not.toContain('hunter2');
    expect(m.attrs).toMatchObject({ config: { api_token: 'svault://secret/data/a#t', port: 1 } });
    expect(m.sensitive).toEqual(['config.password']);
    const plan = computePlan({
      desired: [want('taskserv.pg', { config: { password: 'hunter2' } })],
      state: [],
      providers,
      operation: 'apply',
      meta,
      config: null,
    });
    expect(JSON.stringify(plan)).not.toContain('hunter2');
    expect(diffAttrs({ a: [1, 2] }, { a: [1, 3] })).toEqual([{ path: 'a', before: [1, 2], after: [1, 3] }]);
  });
});
