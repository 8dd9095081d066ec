/**
 * Sync conflicts: when one node changed on both sides since the last sync, both versions
 * are kept. Ours stays in the node's file; theirs is written beside the graph as
 * `conflicts/<id>.conflict-<who>-<when>.md` (not a node: never indexed, never a duplicate id),
 * reported by `kogral sync` and `kogral conflicts`, and resolved with `kogral resolve`.
 */

import { basename, join } from 'node:path';
import { notFoundError, usageError, validationError } from '@stratumiops/shared/errors';
import { slugify } from './ids.js';
import { isProblem, tryParseNode } from './markdown.js';
import { formatProblem, type NodeType } from './model.js';
import type { Store } from './store.js';
import { checkText } from './text-check.js';

export interface ConflictFile {
  /** The node id (or, for a file that is not a node, its file name without .md). */
  id: string;
  who: string;
  when: string;
  path: string;
  /** The node file the conflict belongs to, relative to the graph folder. */
  of?: string;
}

/** One conflict a sync met (git or PostgreSQL); both versions kept. */
export interface SyncConflict {
  /** Path relative to the graph folder. */
  path: string;
  kind: 'both_changed' | 'deleted_here' | 'deleted_there' | 'both_added';
  /** Where the other side's version was kept (relative to the graph folder), when it was. */
  theirs?: string;
}

export const conflictsDir = (store: Store) => join(store.dir, 'conflicts');

const compactStamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** Writes the other side's version of a file; returns its path. Never overwrites an earlier conflict file. */
export function keepTheirs(store: Store, rel: string, content: Buffer | string, who: string, at: Date): string {
  const dir = conflictsDir(store);
  store.files.mkdir(dir);
  const id = basename(rel).replace(/\.md$/, '');
  const base = `${id}.conflict-${slugify(who || 'remote', 40)}-${compactStamp(at)}`;
  let path = join(dir, `${base}.md`);
  for (let n = 2; store.files.exists(path); n++) path = join(dir, `${base}-${n}.md`);
  store.files.write(path, content);
  return path;
}

/** The conflict files, oldest first. */
export function listConflicts(store: Store): ConflictFile[] {
  const dir = conflictsDir(store);
  let names: string[];
  try {
    names = store.files.list(dir) ?? [];
  } catch {
    return [];
  }
  const out: ConflictFile[] = [];
  for (const name of names.sort()) {
    const m = /^(.+)\.conflict-([a-z0-9-]+)-(\d{8}T\d{6}Z)(?:-\d+)?\.md$/.exec(name);
    if (!m) continue;
    const id = m[1] as string;
    const hit = store.listPaths().find((p) => basename(p.path) === `${id}.md`);
    out.push({
      id,
      who: m[2] as string,
      when: m[3] as string,
      path: join(dir, name),
      ...(hit ? { of: store.rel(hit.path) } : {}),
    });
  }
  return out.sort((a, b) => (a.when < b.when ? -1 : a.when > b.when ? 1 : a.path < b.path ? -1 : 1));
}

export type Keep = 'mine' | 'theirs' | 'merged';

export interface Resolution {
  id: string;
  keep: Keep;
  /** The node file written (theirs, merged) or left as it is (mine). */
  path: string;
  /** Conflict files removed. */
  removed: string[];
}

/**
 * Resolves the conflicts of one node: `mine` keeps the node file, `theirs` puts the other side's
 * version in its place, `merged` writes the given text (a whole node file with the same id). The
 * text is checked before anything changes; the conflict files go only once the node is written.
 */
export function resolveConflict(
  store: Store,
  id: string,
  keep: Keep,
  opts: { merged?: string; from?: string } = {},
): Resolution {
  const all = listConflicts(store).filter((c) => c.id === id);
  if (all.length === 0) throw notFoundError(`no conflict for '${id}'`, { hint: "see them with 'kogral conflicts'" });
  if (keep === 'merged' && opts.merged === undefined)
    throw usageError('--keep merged needs the merged node: --file <file>');
  if (keep !== 'merged' && opts.merged !== undefined) throw usageError('--file goes with --keep merged');
  const target = all.find((c) => c.of)?.of;
  const path = target ? join(store.dir, target) : undefined;
  let text: string | undefined;
  if (keep === 'theirs') {
    const chosen = opts.from
      ? all.find((c) => basename(c.path) === basename(opts.from as string))
      : all[all.length - 1];
    if (!chosen) throw notFoundError(`no conflict file ${opts.from} for '${id}'`);
    if (all.length > 1 && !opts.from)
      throw usageError(`'${id}' has ${all.length} conflicting versions: say which with --from`, {
        hint: all.map((c) => basename(c.path)).join(', '),
      });
    text = store.files.read(chosen.path).toString('utf8');
  } else if (keep === 'merged') text = opts.merged;
  if (text !== undefined) {
    const type = (target?.split('/')[0]?.replace(/s$/, '') ?? 'note') as NodeType;
    const check = checkText(Buffer.from(text, 'utf8'), store.maxBytes);
    if (check.error) throw validationError(`the ${keep} version cannot be used: ${check.error.message}`);
    const parsed = tryParseNode(check.text as string, { path: path ?? id, fallbackType: type, fallbackId: id });
    if (isProblem(parsed)) throw validationError(`the ${keep} version is not a valid node: ${formatProblem(parsed)}`);
    if (parsed.id !== id)
      throw validationError(`the ${keep} version has id '${parsed.id}', not '${id}': nothing changed`);
    const dest = path ?? store.fileFor(parsed.type, id);
    store.files.mkdir(join(dest, '..'));
    store.files.write(dest, text);
    for (const c of all) store.files.remove(c.path);
    return { id, keep, path: dest, removed: all.map((c) => c.path) };
  }
  if (!path) throw notFoundError(`the node '${id}' is gone: keep theirs (--keep theirs) or delete the conflict file`);
  for (const c of all) store.files.remove(c.path);
  return { id, keep, path, removed: all.map((c) => c.path) };
}
