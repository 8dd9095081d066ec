/** What the git and the PostgreSQL sync tests share: clones of one graph, and the scenarios both transports pass. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { localFiles } from '../src/adapters/local-files.js';
import type { SyncConflict } from '../src/core/conflicts.js';
import { listConflicts, resolveConflict } from '../src/core/conflicts.js';
import { Kogral } from '../src/core/kogral.js';
import { Store } from '../src/core/store.js';

export interface Clone<R> {
  dir: string;
  store: Store;
  kg: Kogral;
  name: string;
  sync: () => Promise<R>;
}

/** A clone's graph folder `dir` (created here), written to as `name`; `sync` is the transport's. */
export function clone<R>(dir: string, name: string, sync: (store: Store) => Promise<R>): Clone<R> {
  mkdirSync(dir);
  const store = new Store(dir, { files: localFiles });
  return { dir, store, kg: new Kogral(store, { author: name }), name, sync: () => store.lock(() => sync(store)) };
}

export const ids = (store: Store) =>
  store
    .loadAll()
    .nodes.map((n) => n.node.id)
    .sort();

type Synced = { conflicts: SyncConflict[] };

/** A node added on A and synced to B, then changed on both sides; A syncs first. Returns it and B's sync. */
export async function changedOnBothSides<R extends Synced>(a: Clone<R>, b: Clone<R>) {
  const n = await a.kg.add({ type: 'execution', title: 'PG pool', fields: { root_cause: 'unknown' } });
  await a.sync();
  await b.sync();
  await a.kg.edit(n.node.id, { op: 'append', text: 'Alice: PgBouncer added.' });
  await b.kg.edit(n.node.id, { op: 'append', text: 'Bob: leak fixed in the app.' });
  await a.sync();
  return { n, rb: await b.sync() };
}

/** B settles the conflict with both texts merged; after a sync each way both clones have both, and no conflict. */
export async function resolveMerged<R>(a: Clone<R>, b: Clone<R>, id: string, rel: string, mine: string) {
  const merged = mine.replace('Bob: leak fixed in the app.', 'Bob: leak fixed in the app.\n\nAlice: PgBouncer added.');
  const r = resolveConflict(b.store, id, 'merged', { merged });
  await b.sync();
  await a.sync();
  for (const m of [a, b]) {
    expect(listConflicts(m.store)).toEqual([]);
    const text = readFileSync(join(m.dir, rel), 'utf8');
    expect(text).toContain('Alice: PgBouncer added.');
    expect(text).toContain('Bob: leak fixed');
  }
  return r;
}

/** A node deleted on A and changed on B: B keeps the change, and it comes back to A. */
export async function deletedHereChangedThere<R extends Synced>(a: Clone<R>, b: Clone<R>) {
  const n = await a.kg.add({ type: 'note', title: 'Old runbook', fields: { body: 'v1' } });
  await a.sync();
  await b.sync();
  await a.kg.remove(n.node.id);
  await b.kg.edit(n.node.id, { op: 'append', text: 'still needed' });
  await a.sync();
  expect((await b.sync()).conflicts).toEqual([{ path: `notes/${n.node.id}.md`, kind: 'deleted_there' }]);
  await a.sync();
  expect(readFileSync(n.path, 'utf8')).toContain('still needed');
  return n;
}

/** The same new title on both sides: B keeps its own and A's beside it. Returns B's sync. */
export async function sameTitleOnBothSides<R extends Synced>(a: Clone<R>, b: Clone<R>) {
  const x = await a.kg.add({ type: 'note', title: 'Same title', fields: { body: 'from alice' } });
  await b.kg.add({ type: 'note', title: 'Same title', fields: { body: 'from bob' } });
  await a.sync();
  const r2 = await b.sync();
  expect(r2.conflicts).toMatchObject([{ path: `notes/${x.node.id}.md`, kind: 'both_added' }]);
  expect(readFileSync(join(b.dir, r2.conflicts[0]?.theirs as string), 'utf8')).toContain('from alice');
  return { x, r2 };
}

/**
 * Writers adding `rounds` notes each, all at once, each syncing after every note (`syncOnce`), then
 * `settle` more rounds of syncs: every clone has every note with its content, and no conflict.
 */
export async function concurrentWriters<M extends Clone<unknown>>(
  team: M[],
  rounds: number,
  syncOnce: (m: M) => Promise<unknown>,
  settle: number,
): Promise<void> {
  const expected = new Map<string, string>();
  await Promise.all(
    team.map(async (m) => {
      for (let i = 0; i < rounds; i++) {
        const body = `${m.name} wrote note ${i}`;
        const r = await m.kg.add({ type: 'note', title: `${m.name} ${i}`, fields: { body } });
        expected.set(r.node.id, body);
        await syncOnce(m);
      }
    }),
  );
  for (let s = 0; s < settle; s++) for (const m of team) await m.sync();
  for (const m of team) {
    const { nodes, problems } = m.store.loadAll();
    expect(problems).toEqual([]);
    expect(nodes).toHaveLength(team.length * rounds);
    for (const s of nodes) expect(s.node.body).toContain(expected.get(s.node.id) as string);
    expect(listConflicts(m.store)).toEqual([]);
  }
}
