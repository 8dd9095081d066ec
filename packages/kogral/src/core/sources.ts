/**
 * Watched folders: markdown that lives outside the graph (e.g. docs/runbooks) indexed
 * where it is. Kogral never writes these files: their frontmatter (YAML, or Hugo's TOML) is read
 * into the node's fields and metadata, which live in the index only. Ids come from the file's
 * path inside its folder, so they stay the same when the text changes.
 */
import { basename, join, relative, sep } from 'node:path';
import type { DirEntry, NoteFiles } from './files.js';
import { makeId } from './ids.js';
import {
  firstHeading,
  fromFrontmatter,
  inlineTags,
  markdownLinks,
  parseSource,
  titleFromFile,
  toPosix,
} from './importers/common.js';
import { splitFrontmatter } from './markdown.js';
import { isNodeType, type KNode, type NodeType } from './model.js';

export interface Source {
  /** Absolute, real path of the folder. */
  dir: string;
  /** Node type of its files (unless their frontmatter says otherwise). */
  type: NodeType;
  /** The folder's name in results (source_root). */
  name: string;
}

const SKIP = new Set(['node_modules', '.git', '.kogral', '.obsidian', '.trash']);
const MD = /\.(md|markdown)$/i;

export const within = (dir: string, path: string): boolean => path === dir || path.startsWith(dir + sep);

/**
 * The markdown files of a watched folder, recursively, in path order. Dot files and folders are
 * skipped; symlinks are followed only when they stay inside the folder (a loop or an escape is skipped).
 */
export function sourceFiles(files: NoteFiles, src: Source, onSkip?: (path: string, why: string) => void): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (dir: string) => {
    let entries: DirEntry[];
    try {
      entries = files.entries(dir);
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = join(dir, e.name);
      let isDir = e.isDirectory;
      let isFile = e.isFile;
      if (e.isSymbolicLink) {
        let real: string;
        try {
          real = files.realpath(abs);
        } catch {
          continue;
        }
        if (!within(src.dir, real)) {
          onSkip?.(abs, `a symlink to ${real}, outside the watched folder`);
          continue;
        }
        const st = files.stat(real);
        isDir = Boolean(st?.isDirectory);
        isFile = Boolean(st?.isFile);
        if (isDir && seen.has(real)) continue;
        if (isDir) seen.add(real);
      }
      if (isDir) {
        if (!SKIP.has(e.name)) visit(abs);
      } else if (isFile && MD.test(e.name)) out.push(abs);
    }
  };
  seen.add(src.dir);
  visit(src.dir);
  return out;
}

/** Hugo-style `key = "value"` lines, enough for title/tags/date; anything else is kept as text. */
function tomlLite(toml: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const line of toml.split('\n')) {
    const m = /^\s*([A-Za-z_][\w-]*)\s*=\s*(.+?)\s*$/.exec(line);
    if (!m) continue;
    const v = m[2] as string;
    if (/^".*"$|^'.*'$/.test(v)) out[m[1] as string] = v.slice(1, -1);
    else if (/^\[.*\]$/.test(v))
      out[m[1] as string] = v
        .slice(1, -1)
        .split(',')
        .map((x) => x.trim().replace(/^["']|["']$/g, ''))
        .filter(Boolean);
    else out[m[1] as string] = v;
  }
  return out;
}

/** A watched file as a node. Throws FrontmatterError (with its line) when its YAML frontmatter is broken. */
export function foreignNode(text: string, path: string, src: Source, mtimeMs: number): KNode {
  const rel = toPosix(relative(src.dir, path));
  let fm: Record<string, unknown>;
  let body: string;
  const split = splitFrontmatter(text);
  if (split.fence === '+++') {
    fm = tomlLite(split.yaml ?? '');
    body = split.body;
  } else ({ fm, body } = parseSource(text));
  const c = fromFrontmatter(fm);
  const stamp = new Date(mtimeMs).toISOString();
  const tags = [...c.tags];
  for (const t of inlineTags(body)) if (!tags.includes(t)) tags.push(t);
  const type = isNodeType(fm.type) ? fm.type : src.type;
  const metadata = { ...c.metadata };
  delete metadata.type;
  delete metadata.id;
  return {
    id: makeId(titleFromFile(basename(rel)), `source:${src.name}/${rel}`),
    type,
    title: c.title ?? firstHeading(body) ?? titleFromFile(rel),
    tags,
    aliases: c.aliases,
    status: c.status ?? 'active',
    created: c.created ?? stamp,
    updated: c.updated ?? stamp,
    ...(c.author ? { author: c.author } : {}),
    relations: markdownLinks(body, rel).map((t) => ({ type: 'relates_to' as const, target: t, weight: 1 })),
    source: rel,
    source_root: src.name,
    metadata,
    body: body.replace(/^\n/, ''),
  };
}
