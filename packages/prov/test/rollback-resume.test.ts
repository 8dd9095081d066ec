import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../src/adapters/state/sqlite.js';
import { type EngineEvent, executePlan, loadResumable, makePlan, summaryText } from '../src/core/engine.js';
import { type Provider, ProviderError } from '../src/core/provider.js';
import type { DesiredResource, ResourceRecord } from '../src/core/types.js';

/** A provider of plain records whose failures the test scripts: `fail[op:address]` = errors to throw, in turn. */
class ScriptedProvider implements Provider {
  readonly name = 'fake';
  readonly kinds = ['thing'];
  readonly objects = new Set<string>();
  readonly calls: string[] = [];
  fail = new Map<string, Error[]>();
  replaceOn() {
    return [];
  }
  async read(rec: ResourceRecord) {
    return this.objects.has(rec.address) ? rec.attrs : null;
  }
  private step(op: string, address: string) {
    this.calls.push(`${op} ${address}`);
    const e = this.fail.get(`${op}:${address}`)?.shift();
    if (e) throw e;
  }
  async create(res: DesiredResource) {
    this.step('create', res.address);
    this.objects.add(res.address);
    return { id: res.address };
  }
  async update() {
    return {};
  }
  async delete(rec: ResourceRecord) {
    this.step('delete', rec.address);
    this.objects.delete(rec.address);
  }
  async test() {
    return [];
  }
  async close() {}
}

const transient = () => new ProviderError('connection reset', { retryable: true, code: 'unavailable' });
const permanent = (m: string) => new ProviderError(m);
const thing = (name: string, deps: string[] = []): DesiredResource => ({
  address: `thing.${name}`,
  kind: 'thing',
  name,
  provider: 'fake',
  attrs: { name },
  deps,
});

async function setup() {
  const store = new SqliteStateStore(join(mkdtempSync(join(tmpdir(), 'prov-rb-')), 'state.db'));
  const provider = new ScriptedProvider();
  const events: EngineEvent[] = [];
  const deps = {
    store,
    provider: async () => provider,
    retry: { retries: 3, initialMs: 0, factor: 2, maxMs: 0 },
    onEvent: (e: EngineEvent) => events.push(e),
  };
  const desired = [thing('a'), thing('b', ['thing.a']), thing('c', ['thing.b'])];
  const plan = await makePlan(deps, { desired, warnings: [], config: null, operation: 'apply', refresh: false });
  const run = () =>
    executePlan(deps, plan, new Map(desired.map((d) => [d.address, d])), {
      parallelism: 1,
      rollback: true,
      kind: 'apply',
    });
  return { store, provider, events, deps, plan, desired, run };
}

describe('rollback steps are retried, and a failed rollback can be finished with resume', () => {
  it('a rollback step that fails transiently is retried with the backoff policy', async () => {
    const { provider, events, run, store } = await setup();
    provider.fail.set('create:thing.c', [permanent('quota exceeded')]);
    provider.fail.set('delete:thing.a', [transient(), transient()]);
    const r = await run();
    expect(r.status).toBe('rolled_back');
    expect(r.rolled_back).toEqual(['thing.b', 'thing.a']);
    expect(provider.calls.filter((c) => c === 'delete thing.a')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'retry' && e.address === 'thing.a')).toHaveLength(2);
    expect(provider.objects.size).toBe(0);
    expect(await store.list()).toEqual([]);
    await store.close();
  });

  it('a rollback that failed for good is rollback_failed; resume finishes it once the cause is fixed', async () => {
    const { provider, run, store, deps, plan, desired } = await setup();
    provider.fail.set('create:thing.c', [permanent('quota exceeded')]);
    provider.fail.set('delete:thing.b', [permanent('volume busy')]);
    const r = await run();
    expect(r.status).toBe('rollback_failed');
    expect(r.rollback_failed.map((f) => f.address)).toEqual(['thing.b']);
    expect(summaryText(r, 'apply')).toBe(
      `Apply failed and the rollback failed for thing.b.\nIn an unknown state (could not be reached or undone): thing.b. When they are reachable: prov plan (refreshes and shows what is there), then prov apply or prov resume ${r.run_id} (finishes the rollback).`,
    );
    expect([...provider.objects]).toEqual(['thing.b']);

    // The cause is gone (no more scripted failures): resume undoes what is left.
    const resumable = await loadResumable(store, r.run_id);
    const resumed = await executePlan(
      deps,
      plan,
      new Map(desired.map((d) => [d.address, d])),
      { parallelism: 1, rollback: true, kind: 'apply' },
      resumable,
    );
    expect(resumed.status).toBe('rolled_back');
    expect(resumed.rolled_back).toEqual(['thing.b']);
    expect(provider.objects.size).toBe(0);
    expect(await store.list()).toEqual([]);
    expect((await store.getRun(r.run_id))?.status).toBe('rolled_back');
    await expect(loadResumable(store, r.run_id)).rejects.toThrow(/is rolled_back/);
    await store.close();
  });

  it('a step cut off by an unreachable host is reported as unknown, never as "everything is as it was"', async () => {
    const { provider, run, store } = await setup();
    provider.fail.set('create:thing.b', [transient(), transient(), transient(), transient()]);
    const r = await run();
    expect(r.status).toBe('rolled_back');
    expect(r.failed).toMatchObject([{ address: 'thing.b', code: 'unavailable' }]);
    expect(provider.calls.filter((c) => c === 'create thing.b')).toHaveLength(4);
    const text = summaryText(r, 'apply');
    expect(text).not.toContain('everything is as it was');
    expect(text).toContain('In an unknown state (could not be reached or undone): thing.b.');
    await store.close();
  });
});
