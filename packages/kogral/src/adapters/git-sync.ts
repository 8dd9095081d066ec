/**
 * `kogral sync --git` (for teams without a database): the graph folder shared through the repo's git
 * remote. Local changes under the graph folder are committed, the remote's are fetched and
 * rebased onto (merged when the rebase conflicts), then pushed; a push that loses a race is
 * retried from the fetch. A file changed on both sides keeps our version in place and theirs in
 * conflicts/ (see core/conflicts.ts): nothing is ever dropped. Only paths under the graph folder
 * are committed; other files of the repo are never staged.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { conflictError, StratumError, unavailableError, usageError } from '@stratumiops/shared/errors';
import { type SimpleGit, simpleGit } from 'simple-git';
import { keepTheirs, type SyncConflict } from '../core/conflicts.js';
import type { Store } from '../core/store.js';

export interface GitSyncOptions {
  remote?: string;
  /** Name in conflict files and commits. */
  author?: string;
  now?: () => Date;
  dryRun?: boolean;
  /** Attempts when the push loses a race with another writer (default 50). */
  attempts?: number;
}

export interface GitSyncResult {
  remote: string;
  branch: string;
  /** Local commit made of the graph folder's changes, if any. */
  committed: boolean;
  /** Graph files the remote changed here (relative to the graph folder). */
  pulled: string[];
  /** Commits pushed. */
  pushed: number;
  conflicts: SyncConflict[];
  attempts: number;
  dryRun: boolean;
}

const first = (e: unknown) => String((e as Error).message ?? e).split('\n')[0] ?? '';

async function tryRaw(git: SimpleGit, args: string[]): Promise<string | undefined> {
  try {
    return await git.raw(args);
  } catch {
    return undefined;
  }
}

const lines = (s: string | undefined) => (s ?? '').split('\n').filter(Boolean);

export async function gitSync(store: Store, opts: GitSyncOptions = {}): Promise<GitSyncResult> {
  const now = opts.now ?? (() => new Date());
  const remote = opts.remote ?? 'origin';
  const probe = simpleGit(store.dir);
  const top = (await tryRaw(probe, ['rev-parse', '--show-toplevel']))?.trim();
  if (!top)
    throw usageError(`${store.dir} is not in a git repository`, {
      hint: "run 'kogral init --git', or 'git init' and 'git remote add origin <url>' in the project",
    });
  const root: string = top;
  const git = simpleGit(root);
  const ident: string[] = [];
  if (!(await tryRaw(git, ['config', '--get', 'user.name']))?.trim())
    ident.push('-c', `user.name=${opts.author || 'kogral'}`);
  if (!(await tryRaw(git, ['config', '--get', 'user.email']))?.trim()) ident.push('-c', 'user.email=kogral@localhost');
  const remotes = lines(await tryRaw(git, ['remote']));
  if (!remotes.includes(remote))
    throw usageError(`the repository has no remote '${remote}'`, {
      hint: `add one: git remote add ${remote} <url> (a bare repository the team can reach)`,
    });
  const gitDir = (await git.raw(['rev-parse', '--git-dir'])).trim();
  const abs = (p: string) => (p.startsWith('/') ? p : join(root, p));
  for (const f of ['MERGE_HEAD', 'rebase-merge', 'rebase-apply'])
    if (existsSync(join(abs(gitDir), f)))
      throw conflictError(`a git ${f.startsWith('rebase') ? 'rebase' : 'merge'} is in progress in ${root}`, {
        hint: "finish or abort it with git first ('git merge --abort' / 'git rebase --abort')",
      });
  const branch = (await tryRaw(git, ['symbolic-ref', '--short', 'HEAD']))?.trim();
  if (!branch) throw conflictError('HEAD is detached', { hint: 'check out a branch first' });
  const graphRel = relative(root, store.dir) || '.';
  const run = (args: string[]) => git.raw([...ident, ...args]);

  const result: GitSyncResult = {
    remote,
    branch,
    committed: false,
    pulled: [],
    pushed: 0,
    conflicts: [],
    attempts: 0,
    dryRun: Boolean(opts.dryRun),
  };

  // 1. Our changes under the graph folder, as one commit (ignored files, e.g. index.db, stay out).
  const status = lines(await git.raw(['status', '--porcelain', '--untracked-files=all', '--', graphRel]));
  if (status.length > 0 && !opts.dryRun) {
    await run(['add', '-A', '--', graphRel]);
    const staged = lines(await git.raw(['diff', '--cached', '--name-only', '--', graphRel]));
    if (staged.length > 0) {
      await run([
        'commit',
        '--quiet',
        '--no-verify',
        '-m',
        `kogral sync: ${staged.length} local change(s)`,
        '--',
        graphRel,
      ]);
      result.committed = true;
    }
  }
  const hasHead = (await tryRaw(git, ['rev-parse', '--verify', '--quiet', 'HEAD'])) !== undefined;

  const attempts = opts.attempts ?? 50;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    result.attempts = attempt;
    try {
      await git.raw(['fetch', '--quiet', remote]);
    } catch (e) {
      throw unavailableError(`cannot reach the remote '${remote}': ${first(e)}`, {
        hint: 'your changes are committed locally; sync again when it answers',
      });
    }
    const upstream = `${remote}/${branch}`;
    const remoteHead = (await tryRaw(git, ['rev-parse', '--verify', '--quiet', `refs/remotes/${upstream}`]))?.trim();
    const before = hasHead ? (await git.raw(['rev-parse', 'HEAD'])).trim() : '';
    if (remoteHead && before !== remoteHead) {
      const incoming = (p: string) =>
        lines(p).filter((f) => f === graphRel || f.startsWith(`${graphRel === '.' ? '' : `${graphRel}/`}`));
      // Two graphs started apart (kogral init on two machines) have no common commit: compare trees.
      const mergeBase = before ? (await tryRaw(git, ['merge-base', before, remoteHead]))?.trim() : undefined;
      const changedThere = !before
        ? incoming(await git.raw(['ls-tree', '-r', '--name-only', remoteHead]))
        : incoming(
            await git.raw([
              'diff',
              '--name-only',
              mergeBase ? `${before}...${remoteHead}` : `${before}..${remoteHead}`,
            ]),
          );
      if (opts.dryRun) {
        result.pulled = changedThere.map((f) => relative(store.dir, join(root, f)));
        const ahead = before ? lines(await git.raw(['rev-list', `${remoteHead}..HEAD`])).length : 0;
        result.pushed = ahead;
        return result;
      }
      if (!before) await run(['reset', '--quiet', '--hard', remoteHead]);
      else {
        // Who is ahead, from the merge base (simple-git does not fail on an exit code without stderr,
        // so `merge-base --is-ancestor` cannot be used through it).
        if (mergeBase === before) await run(['merge', '--quiet', '--ff-only', remoteHead]);
        else if (mergeBase !== remoteHead) await integrate(remoteHead, upstream);
      }
      for (const f of changedThere) {
        const rel = relative(store.dir, join(root, f));
        if (!result.pulled.includes(rel)) result.pulled.push(rel);
      }
    } else if (opts.dryRun) {
      result.pushed = remoteHead ? lines(await git.raw(['rev-list', `${remoteHead}..HEAD`])).length : hasHead ? 1 : 0;
      return result;
    }
    if (!hasHead && !remoteHead) return result; // nothing anywhere yet
    const ahead = remoteHead ? lines(await git.raw(['rev-list', `${remoteHead}..HEAD`])).length : 1;
    if (ahead === 0) return result;
    try {
      await git.raw(['push', '--quiet', remote, `HEAD:refs/heads/${branch}`]);
      result.pushed += ahead;
      if (!remoteHead) await tryRaw(git, ['branch', '--quiet', '--set-upstream-to', upstream]);
      return result;
    } catch (e) {
      const msg = String((e as Error).message);
      if (!/rejected|non-fast-forward|fetch first|failed to update ref|cannot lock ref|stale info/i.test(msg))
        throw unavailableError(`git push to '${remote}' failed: ${first(e)}`, {
          hint: 'your changes are committed locally; sync again later',
        });
      // Someone pushed first: fetch and integrate again, after a short, growing pause.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 25 * Math.min(attempt, 10))));
    }
  }
  throw unavailableError(`the push to '${remote}' kept losing to other writers (${attempts} attempts)`, {
    hint: 'everything is committed locally; sync again',
  });

  /** Rebases onto the remote; when that conflicts, merges instead, keeping both sides of each conflict. */
  async function integrate(remoteHead: string, upstream: string): Promise<void> {
    try {
      await run(['rebase', '--quiet', remoteHead]);
      return;
    } catch {
      await tryRaw(git, ['rebase', '--abort']);
    }
    try {
      await run([
        'merge',
        '--quiet',
        '--no-edit',
        '--allow-unrelated-histories',
        '-m',
        `kogral sync: merge ${upstream}`,
        remoteHead,
      ]);
      return;
    } catch {
      // conflicts: handled below
    }
    const unmerged = lines(await git.raw(['diff', '--name-only', '--diff-filter=U']));
    const outside = unmerged.filter((f) => !(graphRel === '.' || f.startsWith(`${graphRel}/`)));
    if (outside.length > 0) {
      await tryRaw(git, ['merge', '--abort']);
      throw conflictError(`git conflicts outside the graph folder: ${outside.join(', ')}`, {
        hint: 'kogral only resolves its own files: merge these with git, then sync again',
      });
    }
    const who = (await tryRaw(git, ['log', '-1', '--format=%an', remoteHead]))?.trim() || remote;
    const at = now();
    for (const f of unmerged) {
      const rel = relative(store.dir, join(root, f));
      const show = async (stage: number) => {
        try {
          return await git.binaryCatFile(['-p', `:${stage}:${f}`]);
        } catch {
          return undefined;
        }
      };
      const ours = await show(2);
      const theirs = await show(3);
      const base = await show(1);
      const c: SyncConflict = {
        path: rel,
        kind: ours && theirs ? (base ? 'both_changed' : 'both_added') : ours ? 'deleted_there' : 'deleted_here',
      };
      const file = join(root, f);
      if (ours && theirs) {
        writeFileSync(file, ours);
        const kept = keepTheirs(store, rel, theirs, who, at);
        c.theirs = relative(store.dir, kept);
        await run(['add', '--', f, relative(root, kept)]);
      } else {
        // Changed on one side, deleted on the other: the change is kept, never lost.
        writeFileSync(file, (ours ?? theirs) as Buffer);
        await run(['add', '--', f]);
      }
      result.conflicts.push(c);
    }
    try {
      await run([
        'commit',
        '--quiet',
        '--no-verify',
        '-m',
        `kogral sync: merge ${upstream} (${unmerged.length} conflict(s) kept)`,
      ]);
    } catch (e) {
      await tryRaw(git, ['merge', '--abort']);
      throw new StratumError('failure', `could not record the merge: ${first(e)}`);
    }
  }
}
