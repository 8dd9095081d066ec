import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { StratumError, unavailableError } from '@stratumiops/shared/errors';
import { type SimpleGit, simpleGit } from 'simple-git';
import type { Committer } from '../core/kogral.js';

async function repoRoot(git: SimpleGit): Promise<string | undefined> {
  try {
    return (await git.revparse(['--show-toplevel'])).trim();
  } catch {
    return undefined;
  }
}

/** `-c user.name=… -c user.email=…` when git has no identity configured (fresh machines, CI). */
async function identity(git: SimpleGit, author?: string): Promise<string[]> {
  const get = async (k: string) => {
    try {
      return (await git.raw(['config', '--get', k])).trim();
    } catch {
      return '';
    }
  };
  const out: string[] = [];
  if (!(await get('user.name'))) out.push('-c', `user.name=${author || 'kogral'}`);
  if (!(await get('user.email'))) out.push('-c', 'user.email=kogral@localhost');
  return out;
}

/**
 * One commit per write (git.auto_commit): stages and commits exactly the node files written,
 * with `git commit -- <paths>`, so other staged or modified files are never part of it.
 */
export class GitCommitter implements Committer {
  private root?: string;
  private ident?: string[];

  constructor(
    private readonly cwd: string,
    private readonly author?: string,
    private readonly warn: (msg: string) => void = () => {},
  ) {}

  async commit(paths: string[], message: string): Promise<void> {
    const git = simpleGit(this.cwd);
    this.root ??= await repoRoot(git);
    if (!this.root) {
      this.warn(`git.auto_commit is on but ${this.cwd} is not in a git repository: nothing committed`);
      return;
    }
    this.ident ??= await identity(git, this.author);
    const root = this.root;
    const rels = [...new Set(paths.map((p) => relative(root, p)))];
    const g = simpleGit(root);
    const present = rels.filter((r) => existsSync(`${root}/${r}`));
    const gone = rels.filter((r) => !present.includes(r));
    if (present.length > 0) await g.raw(['add', '--', ...present]);
    if (gone.length > 0) await g.raw(['rm', '--cached', '--quiet', '--ignore-unmatch', '--', ...gone]);
    const tracked = (await g.raw(['ls-files', '--', ...rels])).split('\n').filter(Boolean);
    const changed = (await g.raw(['diff', '--cached', '--name-only', '--', ...rels])).split('\n').filter(Boolean);
    if (changed.length === 0) return;
    const spec = [...new Set([...tracked, ...changed])];
    for (let attempt = 0; ; attempt++) {
      try {
        await g.raw([...(this.ident ?? []), 'commit', '--quiet', '--no-verify', '-m', message, '--', ...spec]);
        return;
      } catch (e) {
        const msg = String((e as Error).message);
        if (/index\.lock/.test(msg) && attempt < 20) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        throw new StratumError('failure', `git commit failed: ${msg.split('\n')[0]}`, {
          hint: 'the node file was written; commit it by hand',
        });
      }
    }
  }
}

export interface Version {
  commit: string;
  date: string;
  author: string;
  message: string;
  path: string;
  diff?: string;
}

/** The commits that touched a file (following renames), newest first. */
export async function fileHistory(
  cwd: string,
  file: string,
  opts: { limit?: number; diff?: boolean } = {},
): Promise<Version[] | undefined> {
  const git = simpleGit(cwd);
  const root = await repoRoot(git);
  if (!root) return undefined;
  const rel = relative(root, file);
  const sep = '\u001f';
  const args = ['log', '--follow', `--format=%x1e%H${sep}%aI${sep}%an${sep}%s`];
  if (opts.limit) args.push('-n', String(opts.limit));
  if (opts.diff) args.push('-p');
  args.push('--', rel);
  let out: string;
  try {
    out = await simpleGit(root).raw(args);
  } catch (e) {
    throw unavailableError(`git log failed: ${String((e as Error).message).split('\n')[0]}`);
  }
  return out
    .split('\u001e')
    .filter((c) => c.trim())
    .map((chunk) => {
      const nl = chunk.indexOf('\n');
      const head = nl < 0 ? chunk : chunk.slice(0, nl);
      const [commit = '', date = '', author = '', message = ''] = head.split(sep);
      const v: Version = { commit, date, author, message, path: rel };
      if (opts.diff) v.diff = (nl < 0 ? '' : chunk.slice(nl + 1)).trim();
      return v;
    });
}

export async function isGitRepo(cwd: string): Promise<boolean> {
  return (await repoRoot(simpleGit(cwd))) !== undefined;
}

export async function gitInit(cwd: string): Promise<void> {
  await simpleGit(cwd).init();
}

/** Clones (or refreshes, at most hourly or when asked) an org graph from a git URL into a cache folder. */
export async function syncClone(url: string, dir: string, refresh: boolean, warn: (m: string) => void): Promise<void> {
  if (!existsSync(join(dir, '.git'))) {
    mkdirSync(dirname(dir), { recursive: true });
    try {
      await simpleGit().clone(url, dir, ['--depth', '1', '--quiet']);
    } catch (e) {
      throw unavailableError(`cannot clone the org graph ${url}: ${String((e as Error).message).split('\n')[0]}`, {
        hint: 'check the URL and your access, or set org to a local folder',
      });
    }
    return;
  }
  let age = Number.POSITIVE_INFINITY;
  try {
    age = Date.now() - statSync(join(dir, '.git', 'FETCH_HEAD')).mtimeMs;
  } catch {}
  if (!refresh && age < 3600_000) return;
  try {
    await simpleGit(dir).pull(['--ff-only', '--quiet']);
  } catch (e) {
    warn(
      `could not update the org graph from ${url} (${String((e as Error).message).split('\n')[0]}); using the copy in ${dir}`,
    );
  }
}
