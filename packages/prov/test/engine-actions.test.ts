import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../src/adapters/state/sqlite.js';
import { type EngineEvent, executePlan, makePlan, type RunOptions } from '../src/core/engine.js';
import { type OrchTask, runDag } from '../src/core/orchestrator.js';
import { ProviderError } from '../src/core/provider.js';
import type { StateStore } from '../src/core/state.js';
import type { Attrs, DesiredResource } from '../src/core/types.js';
import { MemoryProvider } from './support/memory-provider.js';

const thing = (name: string, attrs: Attrs = {}, deps: string[] = []): DesiredResource => ({
  address: `thing.${name}`,
  kind: 'thing',
  name,
  provider: 'memory',
  attrs: { name, ...attrs },
  deps,
});
const chain = (...names: string[]) => names.map((n, i) => thing(n, {}, i > 0 ? [`thing.${names[i - 1]}`] : []));
const permanent = (m: string) => new ProviderError(m);
const transient = () => new ProviderError('connection reset', { retryable: true, code: 'unavailable' });

const stores: StateStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** A real SQLite state in a temp dir, the in-memory provider, and apply/destroy as the commands run them. */
function harness() {
  const store = new SqliteStateStore(join(mkdtempSync(join(tmpdir(), 'prov-actions-')), 'state.db'));
  stores.push(store);
  const provider = new MemoryProvider({ replaceOn: { thing: ['size'] } });
  const events: EngineEvent[] = [];
  const deps = {
    store,
    provider: async () => provider,
    retry: { retries: 2, initialMs: 0, factor: 2, maxMs: 0 },
    onEvent: (e: EngineEvent) => events.push(e),
  };
  const run = async (
    desired: DesiredResource[],
    opts: Partial<RunOptions> & { operation?: 'apply' | 'destroy'; refresh?: boolean } = {},
  ) => {
    const operation = opts.operation ?? 'apply';
    const plan = await makePlan(deps, {
      desired,
      warnings: [],
      config: null,
      operation,
      refresh: opts.refresh ?? false,
    });
    return executePlan(deps, plan, new Map(desired.map((d) => [d.address, d])), {
      parallelism: 1,
      rollback: opts.rollback ?? true,
      kind: operation,
    });
  };
  /** Starts from a clean slate of calls and events (after setting things up). */
  const reset = () => {
    provider.calls.length = 0;
    events.length = 0;
  };
  const statuses = async (runId: string) =>
    Object.fromEntries((await store.tasks(runId)).map((t) => [t.address, t.status]));
  const recorded = async () => Object.fromEntries((await store.list()).map((r) => [r.address, r.attrs]));
  /** The run a crash left behind, and its checkpoints, as prov resume loads them. */
  const leftBehind = async () => {
    const [run] = await store.unfinishedRuns();
    if (!run) throw new Error('no unfinished run');
    return { run, tasks: await store.tasks(run.id) };
  };
  /** Runs until the call scripted to crash, and returns the run it left behind (calls and events cleared). */
  const crash = async (desired: DesiredResource[], op: 'create' | 'delete', address: string) => {
    provider.crashAt(op, address);
    void run(desired);
    await provider.crashed;
    const left = await leftBehind();
    reset();
    return left;
  };
  /** Continues a run left behind as prov resume does: its own plan and options. */
  const resume = (left: Awaited<ReturnType<typeof leftBehind>>, desired: DesiredResource[]) =>
    executePlan(
      deps,
      left.run.plan,
      new Map(desired.map((d) => [d.address, d])),
      { parallelism: left.run.options.parallelism, rollback: left.run.options.rollback, kind: left.run.kind },
      left,
    );
  return { store, provider, events, deps, run, reset, statuses, recorded, leftBehind, crash, resume };
}

describe('apply actions: each change runs and is undone by its own action', () => {
  it('a create failing in the middle rolls back the completed creates, last first', async () => {
    const h = harness();
    h.provider.fail('create', 'thing.c', permanent('quota exceeded'));
    const r = await h.run(chain('a', 'b', 'c', 'd'));
    expect(h.provider.calls).toEqual([
      'create thing.a',
      'create thing.b',
      'create thing.c',
      'delete thing.b',
      'delete thing.a',
    ]);
    expect(r).toMatchObject({ status: 'rolled_back', rolled_back: ['thing.b', 'thing.a'], skipped: ['thing.d'] });
    expect(r.failed).toMatchObject([{ address: 'thing.c', error: 'quota exceeded' }]);
    expect(h.provider.objects.size).toBe(0);
    expect(await h.store.list()).toEqual([]);
    expect(await h.statuses(r.run_id)).toEqual({
      'thing.a': 'rolled_back',
      'thing.b': 'rolled_back',
      'thing.c': 'failed',
    });
    expect(h.events.filter((e) => e.type.startsWith('roll')).map((e) => `${e.type} ${e.address}`)).toEqual([
      'rollback-start thing.b',
      'rolled-back thing.b',
      'rollback-start thing.a',
      'rolled-back thing.a',
    ]);
  });

  it('with --no-rollback the completed creates are kept', async () => {
    const h = harness();
    h.provider.fail('create', 'thing.c', permanent('quota exceeded'));
    const r = await h.run(chain('a', 'b', 'c'), { rollback: false });
    expect(r).toMatchObject({ status: 'failed', added: 2, rolled_back: [] });
    expect(h.provider.calls).toEqual(['create thing.a', 'create thing.b', 'create thing.c']);
    expect(Object.keys(await h.recorded())).toEqual(['thing.a', 'thing.b']);
  });

  it('a failing update puts the old attributes back with an update (never delete + create)', async () => {
    const h = harness();
    expect((await h.run([thing('a', { v: 1 }), thing('b', { v: 1 }, ['thing.a'])])).status).toBe('succeeded');
    h.reset();
    h.provider.fail('update', 'thing.b', permanent('invalid value'));
    const r = await h.run([thing('a', { v: 2 }), thing('b', { v: 2 }, ['thing.a'])]);
    expect(h.provider.calls).toEqual(['update thing.a', 'update thing.b', 'update thing.a']);
    expect(r).toMatchObject({ status: 'rolled_back', rolled_back: ['thing.a'] });
    expect(h.provider.attrsOf('thing.a')).toEqual({ name: 'a', v: 1 });
    expect(h.provider.attrsOf('thing.b')).toEqual({ name: 'b', v: 1 });
    expect(await h.recorded()).toEqual({ 'thing.a': { name: 'a', v: 1 }, 'thing.b': { name: 'b', v: 1 } });
  });

  it('a replace whose create fails after the delete re-creates the original', async () => {
    const h = harness();
    await h.run([thing('a', { size: 's' })]);
    const id = h.provider.objects.get('thing.a')!.id;
    h.reset();
    h.provider.fail('create', 'thing.a', permanent('no capacity for size m'));
    const r = await h.run([thing('a', { size: 'm' })]);
    expect(h.provider.calls).toEqual(['delete thing.a', 'create thing.a', 'create thing.a']);
    expect(r).toMatchObject({ status: 'rolled_back', failed: [{ address: 'thing.a' }], rolled_back: [] });
    expect(h.provider.attrsOf('thing.a')).toEqual({ name: 'a', size: 's' });
    expect(h.provider.objects.get('thing.a')!.id).not.toBe(id);
    const [rec] = await h.store.list();
    expect(rec).toMatchObject({
      attrs: { name: 'a', size: 's' },
      outputs: { id: h.provider.objects.get('thing.a')!.id },
    });
  });

  it('a completed replace is undone by deleting the new object and re-creating the old one', async () => {
    const h = harness();
    await h.run([thing('a', { size: 's' })]);
    h.reset();
    h.provider.fail('create', 'thing.b', permanent('quota exceeded'));
    const r = await h.run([thing('a', { size: 'm' }), thing('b', {}, ['thing.a'])]);
    expect(h.provider.calls).toEqual([
      'delete thing.a',
      'create thing.a',
      'create thing.b',
      'delete thing.a',
      'create thing.a',
    ]);
    expect(r).toMatchObject({ status: 'rolled_back', rolled_back: ['thing.a'] });
    expect(h.provider.attrsOf('thing.a')).toEqual({ name: 'a', size: 's' });
    expect(await h.recorded()).toEqual({ 'thing.a': { name: 'a', size: 's' } });
  });

  it('a destroy failing halfway re-creates what it had deleted, dependents first deleted last re-created', async () => {
    const h = harness();
    await h.run(chain('a', 'b', 'c'));
    h.reset();
    h.provider.fail('delete', 'thing.a', permanent('volume busy'));
    const r = await h.run([], { operation: 'destroy' });
    expect(h.provider.calls).toEqual([
      'delete thing.c',
      'delete thing.b',
      'delete thing.a',
      'create thing.b',
      'create thing.c',
    ]);
    expect(r).toMatchObject({ status: 'rolled_back', rolled_back: ['thing.b', 'thing.c'] });
    expect([...h.provider.objects.keys()].sort()).toEqual(['thing.a', 'thing.b', 'thing.c']);
    expect(Object.keys(await h.recorded())).toEqual(['thing.a', 'thing.b', 'thing.c']);
  });

  it('a record whose object is gone is dropped from state, and put back when the run rolls back', async () => {
    const h = harness();
    await h.run([thing('a'), thing('b')]);
    h.provider.objects.delete('thing.a');
    h.reset();
    h.provider.fail('create', 'thing.c', permanent('quota exceeded'));
    const r = await h.run([thing('b'), thing('c')], { refresh: true });
    expect(h.provider.calls).toEqual(['create thing.c']);
    expect(r).toMatchObject({ status: 'rolled_back', rolled_back: ['thing.a'] });
    expect(Object.keys(await h.recorded())).toEqual(['thing.a', 'thing.b']);
    const ok = await h.run([thing('b')], { refresh: true });
    expect(ok).toMatchObject({ status: 'succeeded', done: ['thing.a'] });
    expect(Object.keys(await h.recorded())).toEqual(['thing.b']);
  });

  it('a transient rollback failure is retried; one that stays is reported as rollback_failed', async () => {
    const h = harness();
    h.provider.fail('create', 'thing.c', permanent('quota exceeded'));
    h.provider.fail('delete', 'thing.a', transient());
    h.provider.fail('delete', 'thing.b', permanent('volume busy'));
    const r = await h.run(chain('a', 'b', 'c'));
    expect(h.provider.calls).toEqual([
      'create thing.a',
      'create thing.b',
      'create thing.c',
      'delete thing.b',
      'delete thing.a',
      'delete thing.a',
    ]);
    expect(r).toMatchObject({
      status: 'rollback_failed',
      rolled_back: ['thing.a'],
      rollback_failed: [{ address: 'thing.b', error: 'volume busy' }],
    });
    expect(Object.keys(await h.recorded())).toEqual(['thing.b']);
  });
});

describe('resume after a crash', () => {
  it('runs each remaining step once (the step cut off adopts what it had made) and finishes the run', async () => {
    const h = harness();
    const desired = chain('a', 'b', 'c');
    const left = await h.crash(desired, 'create', 'thing.b');
    expect(await h.statuses(left.run.id)).toEqual({
      'thing.a': 'done',
      'thing.b': 'running',
    });
    const firstB = h.provider.objects.get('thing.b')!.id;
    const r = await h.resume(left, desired);
    expect(h.provider.calls).toEqual(['create thing.b', 'create thing.c']);
    expect(r).toMatchObject({ run_id: left.run.id, status: 'succeeded', done: ['thing.a', 'thing.b', 'thing.c'] });
    expect(r.added).toBe(3);
    expect(h.provider.objects.get('thing.b')!.id).toBe(firstB);
    expect(Object.keys(await h.recorded())).toEqual(['thing.a', 'thing.b', 'thing.c']);
    expect((await h.store.getRun(left.run.id))?.status).toBe('succeeded');
  });

  it('a resumed run that fails rolls back what both runs completed, last first', async () => {
    const h = harness();
    const desired = chain('a', 'b', 'c');
    const left = await h.crash(desired, 'create', 'thing.b');
    h.provider.fail('create', 'thing.c', permanent('quota exceeded'));
    const r = await h.resume(left, desired);
    expect(h.provider.calls).toEqual(['create thing.b', 'create thing.c', 'delete thing.b', 'delete thing.a']);
    expect(r).toMatchObject({ status: 'rolled_back', rolled_back: ['thing.b', 'thing.a'] });
    expect(h.provider.objects.size).toBe(0);
    expect(await h.store.list()).toEqual([]);
  });

  it('a crash during the rollback: resume finishes the rollback (retried like any step) and starts nothing new', async () => {
    const h = harness();
    const desired = chain('a', 'b', 'c', 'd');
    h.provider.fail('create', 'thing.c', permanent('quota exceeded'));
    const left = await h.crash(desired, 'delete', 'thing.b');
    expect(await h.statuses(left.run.id)).toEqual({
      'thing.a': 'done',
      'thing.b': 'done',
      'thing.c': 'failed',
    });
    h.provider.fail('delete', 'thing.a', transient());
    const r = await h.resume(left, desired);
    // thing.b was deleted before the crash: deleting it again is a no-op for the provider.
    expect(h.provider.calls).toEqual(['delete thing.b', 'delete thing.a', 'delete thing.a']);
    expect(r).toMatchObject({
      status: 'rolled_back',
      failed: [{ address: 'thing.c', error: 'quota exceeded' }],
      rolled_back: ['thing.b', 'thing.a'],
      skipped: [],
      done: ['thing.a', 'thing.b'],
    });
    expect(h.events.map((e) => `${e.type} ${e.address}`)).toEqual([
      'rollback-start thing.b',
      'rolled-back thing.b',
      'rollback-start thing.a',
      'retry thing.a',
      'rolled-back thing.a',
    ]);
    expect(h.provider.objects.size).toBe(0);
    expect(await h.store.list()).toEqual([]);
    expect((await h.store.getRun(left.run.id))?.status).toBe('rolled_back');
  });

  it('a crash after a failure in a --no-rollback run: resume records the failure and undoes nothing', async () => {
    const h = harness();
    const desired = chain('a', 'b', 'c');
    h.provider.fail('create', 'thing.b', permanent('quota exceeded'));
    const first = await h.run(desired, { rollback: false });
    // The process died after the failure was checkpointed, before the run was marked finished.
    await h.store.setRunStatus(first.run_id, 'running');
    const left = await h.leftBehind();
    h.reset();
    const r = await h.resume(left, desired);
    expect(h.provider.calls).toEqual([]);
    expect(r).toMatchObject({ status: 'failed', rolled_back: [], failed: [{ address: 'thing.b' }], done: ['thing.a'] });
    expect(Object.keys(await h.recorded())).toEqual(['thing.a']);
  });
});

describe('orchestrator: a run that failed before it stopped', () => {
  const tasks = (log: string[]): OrchTask<string>[] =>
    ['a', 'b', 'c', 'd'].map((id, i) => ({
      id,
      deps: i > 0 ? [['a', 'b', 'c', 'd'][i - 1]!] : [],
      run: async () => {
        log.push(`run ${id}`);
        return id;
      },
      rollback: async (r) => {
        log.push(`undo ${r}`);
      },
    }));
  const earlier = {
    done: new Map([
      ['a', 'a'],
      ['b', 'b'],
    ]),
    failed: [{ id: 'c', error: new Error('x') }],
  };

  it('starts nothing and undoes what the earlier run completed, last first', async () => {
    const log: string[] = [];
    const r = await runDag(tasks(log), { parallelism: 2, ...earlier });
    expect(log).toEqual(['undo b', 'undo a']);
    expect(r).toMatchObject({ ok: false, done: ['a', 'b'], rolledBack: ['b', 'a'], skipped: [], interrupted: false });
    expect(r.failed.map((f) => f.id)).toEqual(['c']);
  });

  it('with rollback off it only reports the failure', async () => {
    const log: string[] = [];
    const r = await runDag(tasks(log), { parallelism: 2, rollback: false, ...earlier });
    expect(log).toEqual([]);
    expect(r).toMatchObject({ ok: false, rolledBack: [], failed: [{ id: 'c' }] });
  });
});
