import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, posix, relative, sep } from 'node:path';
import { FrontmatterError, parseYaml, splitFrontmatter, stripCode, toList } from '../markdown.js';
import type { KNode, NodeType, RelationType } from '../model.js';
import { checkText } from '../text-check.js';

export const IMPORT_FORMATS = ['logseq', 'obsidian', 'markdown', 'adr', 'json', 'yaml'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** One node to be imported, before ids are assigned and links resolved. */
export interface Draft {
  /** The file's path relative to the import root (forward slashes). */
  source: string;
  title: string;
  type: NodeType;
  body: string;
  tags: string[];
  aliases: string[];
  status?: string;
  created?: string;
  updated?: string;
  author?: string;
  metadata: Record<string, unknown>;
  /** Relations by name: another draft's source path, title or alias, or an existing node's id. */
  relations: { type: RelationType; target: string; weight: number }[];
  /** A node from kogral's own export: imported as it is, id and all. */
  node?: KNode;
}

export interface Skipped {
  source: string;
  line?: number;
  reason: string;
}

export interface SourceFile {
  abs: string;
  rel: string;
  mtime: Date;
}

export interface ReadResult {
  text?: string;
  skipped?: Skipped;
}

/** Folders never walked into. */
const SKIP_DIRS = new Set(['.git', 'node_modules', '.obsidian', '.trash', '.kogral', '.logseq', 'bak', '.recycle']);

export const toPosix = (p: string) => p.split(sep).join(posix.sep);

/** Every file under root (sorted, stable), skipping VCS and tool folders. */
export function walk(root: string, skipDirs: Set<string> = SKIP_DIRS): SourceFile[] {
  const out: SourceFile[] = [];
  const visit = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (!skipDirs.has(e.name)) visit(abs);
      } else if (e.isFile()) {
        out.push({ abs, rel: toPosix(relative(root, abs)), mtime: statSync(abs).mtime });
      }
    }
  };
  visit(root);
  return out;
}

const MD_EXT = new Set(['.md', '.markdown', '.mdx']);

/**
 * Is this a markdown file? `.md` and friends are; a file without an extension is when its
 * first line is a heading or a frontmatter fence (e.g. a postmortem saved without `.md`).
 */
export function isMarkdownCandidate(f: SourceFile): boolean {
  const ext = extname(f.abs).toLowerCase();
  if (MD_EXT.has(ext)) return true;
  if (ext !== '' && !/^\.[^a-z]/i.test(ext) && !/\s/.test(ext)) return false;
  let fd: number | undefined;
  try {
    fd = openSync(f.abs, 'r');
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, 512, 0);
    const head = buf.subarray(0, n);
    if (head.includes(0)) return false;
    const first =
      head
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .split('\n')
        .find((l) => l.trim() !== '') ?? '';
    return /^(#{1,6} \S|---\s*$)/.test(first);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads a source file as text, or says why it is skipped (binary, invalid UTF-8, too big). */
export function readSource(f: SourceFile, maxBytes: number): ReadResult {
  let buf: Buffer;
  try {
    const size = statSync(f.abs).size;
    if (size > maxBytes)
      return { skipped: { source: f.rel, reason: `file is ${size} bytes, over the ${maxBytes}-byte limit` } };
    buf = readFileSync(f.abs);
  } catch (e) {
    return { skipped: { source: f.rel, reason: `cannot read: ${(e as Error).message}` } };
  }
  const c = checkText(buf, maxBytes);
  if (c.error)
    return { skipped: { source: f.rel, reason: c.error.message, ...(c.error.line ? { line: c.error.line } : {}) } };
  return { text: (c.text as string).replace(/\r\n/g, '\n') };
}

export interface Parsed {
  fm: Record<string, unknown>;
  body: string;
}

/** Frontmatter and body; a frontmatter that is not YAML is an error with its line. */
export function parseSource(text: string): Parsed {
  const split = splitFrontmatter(text);
  if (split.fence === '+++')
    throw new FrontmatterError('TOML frontmatter (+++) is not supported; convert it to YAML', 1);
  const fm = split.yaml === undefined ? {} : parseYaml(split.yaml, split.yamlLine);
  return { fm, body: split.body };
}

/** The first `# heading` of a body. */
export const firstHeading = (body: string): string | undefined =>
  /^#[ \t]+(.+?)[ \t#]*$/m
    .exec(stripCode(body))?.[1]
    ?.trim()
    .replace(/^(\*\*|__)(.+)\1$/, '$2')
    .trim();

/** A title from a file name: extension dropped, dashes and underscores as spaces when it has no spaces. */
export function titleFromFile(rel: string): string {
  const base = basename(rel).replace(/\.(md|markdown|mdx)$/i, '');
  return base.includes(' ') ? base.trim() : base.replace(/[-_]+/g, ' ').trim();
}

/** `#tag`, `#nested/tag`, `#[[multi word]]` in a body (outside code). */
export function inlineTags(body: string): string[] {
  const text = stripCode(body);
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s(])#\[\[([^\]\n]+)\]\]/gu)) out.push((m[1] as string).trim());
  for (const m of text.matchAll(/(?:^|[\s(])#([\p{L}][\p{L}\p{N}_/-]*)/gu)) out.push(m[1] as string);
  return [...new Set(out)];
}

/** Relative markdown links `[text](other.md)` of a file, as import-root-relative paths. */
export function markdownLinks(body: string, rel: string): string[] {
  const out: string[] = [];
  for (const m of stripCode(body).matchAll(/\]\(([^)\s]+?\.(?:md|markdown))(#[^)]*)?\)/gi)) {
    const target = m[1] as string;
    if (/^[a-z]+:/i.test(target)) continue;
    let decoded = target;
    try {
      decoded = decodeURIComponent(target);
    } catch {}
    const joined = posix.normalize(posix.join(posix.dirname(rel), decoded));
    if (!joined.startsWith('..') && !out.includes(joined)) out.push(joined);
  }
  return out;
}

/** An ISO date-time from a frontmatter or metadata value; undefined when it is not one. */
export function isoDate(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const s = String(v).trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return undefined;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Splits the common frontmatter keys off into draft fields; the rest stays metadata. */
export function fromFrontmatter(
  fm: Record<string, unknown>,
): Partial<Pick<Draft, 'title'>> &
  Pick<Draft, 'tags' | 'aliases' | 'status' | 'created' | 'updated' | 'author' | 'metadata'> {
  const metadata: Record<string, unknown> = {};
  const taken = new Set(['title', 'tags', 'tag', 'aliases', 'alias', 'status', 'date', 'created', 'updated', 'author']);
  for (const [k, v] of Object.entries(fm)) if (!taken.has(k)) metadata[k] = v;
  const title = typeof fm.title === 'string' || typeof fm.title === 'number' ? String(fm.title) : undefined;
  const status = typeof fm.status === 'string' ? fm.status : undefined;
  const created = isoDate(fm.created) ?? isoDate(fm.date);
  const updated = isoDate(fm.updated);
  // Keep a date we could not read as a date, rather than lose it.
  if (fm.date !== undefined && !isoDate(fm.date)) metadata.date = fm.date;
  const author = typeof fm.author === 'string' ? fm.author : undefined;
  return {
    ...(title ? { title } : {}),
    tags: toList(fm.tags ?? fm.tag),
    aliases: toList(fm.aliases ?? fm.alias),
    ...(status ? { status } : {}),
    ...(created ? { created } : {}),
    ...(updated ? { updated } : {}),
    ...(author ? { author } : {}),
    metadata,
  };
}

export const parentDir = (rel: string) => dirname(rel);
