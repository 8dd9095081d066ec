import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { gitSync } from '../src/adapters/git-sync.js';
import { localFiles } from '../src/adapters/local-files.js';
import { listConflicts, resolveConflict } from '../src/core/conflicts.js';
import { Store } from '../src/core/store.js';
import {
  changedOnBothSides,
  clone,
  concurrentWriters,
  deletedHereChangedThere,
  ids,
  resolveMerged,
  sameTitleOnBothSides,
} from './sync-team.js';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

function bareRemote(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kogral-remote-'));
  git(dir, 'init', '--quiet', '--bare', '-b', 'main');
  return dir;
}

/** One team member's clone: a repo with the graph in .kogral/, the bare repo as origin. */
function member(remote: string, name: string) {
  const root = mkdtempSync(join(tmpdir(), `kogral-${name}-`));
  git(root, 'init', '--quiet', '-b', 'main');
  git(root, 'config', 'user.name', name);
  git(root, 'config', 'user.email', `${name}@example.com`);
  git(root, 'remote', 'add', 'origin', remote);
  const c = clone(join(root, '.kogral'), name, (store) => gitSync(store, { author: name }));
  writeFileSync(join(c.dir, '.gitignore'), 'index.db\nindex.db-*\n.lock\n.lock.*\n.*.tmp\n');
  return { root, ...c };
}

describe('kogral sync through a bare git remote', { timeout: 300_000 }, () => {
  it('add on A is on B; delete on B is gone on A; offline work syncs later', async () => {
    const remote = bareRemote();
    const a = member(remote, 'alice');
    const b = member(remote, 'bob');
    expect((await b.sync()).conflicts).toEqual([]); // an empty remote: B's graph folder goes first
    const n = await a.kg.add({ type: 'note', title: 'Nginx 502', fields: { body: 'Check upstreams.' } });
    const ra = await a.sync();
    expect(ra).toMatchObject({ committed: true, pushed: 1, conflicts: [] });
    const rb = await b.sync();
    expect(rb.pulled).toContain(`notes/${n.node.id}.md`);
    expect(readFileSync(join(b.dir, 'notes', `${n.node.id}.md`), 'utf8')).toBe(readFileSync(n.path, 'utf8'));

    await b.kg.remove(n.node.id);
    await b.sync();
    await a.sync();
    expect(existsSync(n.path)).toBe(false);

    // Offline: the remote is unreachable; the work stays committed locally and goes out later.
    const away = `${remote}-away`;
    renameSync(remote, away);
    const m = await a.kg.add({ type: 'note', title: 'Written offline', fields: { body: 'x' } });
    await expect(a.sync()).rejects.toThrow(/cannot reach the remote/);
    renameSync(away, remote);
    expect((await a.sync()).pushed).toBeGreaterThan(0);
    await b.sync();
    expect(ids(b.store)).toEqual([m.node.id]);
  });

  it('a node edited on both sides: a conflict, both versions kept, resolved', async () => {
    const remote = bareRemote();
    const a = member(remote, 'alice');
    const b = member(remote, 'bob');
    const { n, rb } = await changedOnBothSides(a, b);
    expect(rb.conflicts).toEqual([
      { path: `executions/${n.node.id}.md`, kind: 'both_changed', theirs: expect.stringMatching(/^conflicts\//) },
    ]);
    const mine = readFileSync(join(b.dir, 'executions', `${n.node.id}.md`), 'utf8');
    expect(mine).toContain('Bob: leak fixed');
    const [c] = listConflicts(b.store);
    expect(c).toMatchObject({ id: n.node.id, who: 'alice', of: `executions/${n.node.id}.md` });
    expect(readFileSync(c?.path as string, 'utf8')).toContain('Alice: PgBouncer added.');
    // The conflict file is not a node: no duplicate id anywhere.
    expect(b.store.loadAll().problems).toEqual([]);

    // A sees the same conflict after its next sync: nothing was lost on either side.
    await a.sync();
    expect(listConflicts(a.store).map((x) => x.id)).toEqual([n.node.id]);

    // Bad resolutions change nothing.
    expect(() => resolveConflict(b.store, 'nope', 'mine')).toThrow(/no conflict/);
    expect(() => resolveConflict(b.store, n.node.id, 'merged')).toThrow(/needs the merged/);
    expect(() => resolveConflict(b.store, n.node.id, 'merged', { merged: '---\nid: other\n---\nx' })).toThrow(
      /not 'pg-pool/,
    );
    expect(readFileSync(join(b.dir, 'executions', `${n.node.id}.md`), 'utf8')).toBe(mine);
    expect(listConflicts(b.store)).toHaveLength(1);

    const r = await resolveMerged(a, b, n.node.id, `executions/${n.node.id}.md`, mine);
    expect(r.removed).toHaveLength(1);
  });

  it('deleted on one side, changed on the other: the change is kept; the same new title on both sides: both kept', async () => {
    const remote = bareRemote();
    const a = member(remote, 'alice');
    const b = member(remote, 'bob');
    await deletedHereChangedThere(a, b);
    await sameTitleOnBothSides(a, b);
  });

  it('refuses clearly: not a repo, no remote, a merge in progress', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'kogral-plain-'));
    mkdirSync(join(plain, '.kogral'));
    const s = new Store(join(plain, '.kogral'), { files: localFiles });
    await expect(gitSync(s)).rejects.toThrow(/not in a git repository/);
    git(plain, 'init', '--quiet', '-b', 'main');
    await expect(gitSync(s)).rejects.toThrow(/no remote 'origin'/);
    git(plain, 'remote', 'add', 'origin', bareRemote());
    writeFileSync(join(plain, '.git', 'MERGE_HEAD'), '0'.repeat(40));
    await expect(gitSync(s)).rejects.toThrow(/merge is in progress/);
  });

  it('3 writers syncing concurrently 50 times each lose nothing (count and content)', {
    timeout: 900_000,
  }, async () => {
    const remote = bareRemote();
    const team = ['ann', 'ben', 'cat'].map((n) => member(remote, n));
    const rounds = 50;
    // Losing every push race for a while is allowed (exit 7, the work stays committed locally
    // and goes out with a later sync); losing a note is not.
    const syncOnce = (m: (typeof team)[number]) =>
      m.sync().catch((e: Error) => {
        if (!/kept losing/.test(e.message)) throw e;
      });
    await concurrentWriters(team, rounds, syncOnce, 2);
    const log = git(team[0]?.root as string, 'log', '--oneline', 'origin/main');
    expect(log.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(3 * rounds);
  });
});

describe('kogral sync / conflicts / resolve from the CLI', { timeout: 300_000 }, () => {
  it('two clones through a bare remote: conflict reported, listed, resolved', async () => {
    const remote = bareRemote();
    const { cwd, env } = sandbox();
    const ann = join(cwd, 'ann');
    const ben = join(cwd, 'ben');
    const k = (dir: string, args: string[]) => runBin('kogral', args, { cwd: dir, env, timeoutMs: 60_000 });
    mkdirSync(ann);
    git(ann, 'init', '--quiet', '-b', 'main');
    git(ann, 'remote', 'add', 'origin', remote);
    const who = (d: string, name: string) => {
      git(d, 'config', 'user.name', name);
      git(d, 'config', 'user.email', `${name}@example.com`);
    };
    who(ann, 'ann');
    expect((await k(ann, ['init', '--git'])).code).toBe(0);
    const add = JSON.parse((await k(ann, ['add', 'note', 'Cert rotation', '--body', 'v1', '--json'])).stdout);
    const s1 = await k(ann, ['sync', '--json']);
    expect(s1.code, s1.stderr).toBe(0);
    expect(JSON.parse(s1.stdout)).toMatchObject({ remote: 'origin', branch: 'main', pushed: expect.any(Number) });
    // A new team member clones the repository; sync keeps it current from then on.
    git(cwd, 'clone', '--quiet', remote, 'ben');
    who(ben, 'ben');
    expect((await k(ben, ['sync'])).code).toBe(0);
    expect(JSON.parse((await k(ben, ['show', add.id, '--json'])).stdout).body).toContain('v1');

    expect((await k(ann, ['edit', add.id, '--find', 'v1', '--replace', 'v2-ann'])).code).toBe(0);
    expect((await k(ben, ['edit', add.id, '--find', 'v1', '--replace', 'v2-ben'])).code).toBe(0);
    expect((await k(ann, ['sync'])).code).toBe(0);
    const dry = JSON.parse((await k(ben, ['sync', '--dry-run', '--json'])).stdout);
    expect(dry).toMatchObject({ dryRun: true, pulled: [`notes/${add.id}.md`] });
    const s2 = await k(ben, ['sync']);
    expect(s2.code).toBe(0);
    expect(s2.stderr).toMatch(/1 conflict\(s\), both versions kept/);
    expect(s2.stderr).toContain(`notes/${add.id}.md: both changed (theirs in conflicts/${add.id}.conflict-ann-`);
    const list = JSON.parse((await k(ben, ['conflicts', '--json'])).stdout);
    expect(list.conflicts).toMatchObject([{ id: add.id, who: 'ann' }]);
    expect((await k(ben, ['resolve', add.id, '--keep', 'sideways'])).code).toBe(2);
    expect((await k(ben, ['resolve', 'nope', '--keep', 'mine'])).code).toBe(4);
    const r = await k(ben, ['resolve', add.id, '--keep', 'theirs']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse((await k(ben, ['show', add.id, '--json'])).stdout).body).toContain('v2-ann');
    expect(JSON.parse((await k(ben, ['conflicts', '--json'])).stdout).conflicts).toEqual([]);
    expect((await k(ben, ['sync'])).code).toBe(0);
    expect((await k(ann, ['sync'])).code).toBe(0);
    expect(JSON.parse((await k(ann, ['conflicts', '--json'])).stdout).conflicts).toEqual([]);
    expect(JSON.parse((await k(ann, ['show', add.id, '--json'])).stdout).body).toContain('v2-ann');

    const both = await k(ann, ['sync', '--git', '--url', 'postgresql://127.0.0.1/kogral']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--git or --url, not both/);
  });
});
