import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { isIdLike } from '../ids.js';
import { FrontmatterError, parseNode, toList } from '../markdown.js';
import { isNodeType, isRelationType, type KNode, NODE_TYPES, type NodeType, type Relation } from '../model.js';
import { yamlLib } from '../yaml-lite.js';
import {
  type Draft,
  firstHeading,
  fromFrontmatter,
  type ImportFormat,
  inlineTags,
  isMarkdownCandidate,
  isoDate,
  markdownLinks,
  parseSource,
  readSource,
  type Skipped,
  type SourceFile,
  titleFromFile,
  walk,
} from './common.js';
import { orgToMarkdown } from './org.js';

export interface FormatOptions {
  /** Node type of plain markdown files. */
  type: NodeType;
  maxBytes: number;
}

export interface FormatResult {
  drafts: Draft[];
  skipped: Skipped[];
  /** Files that are not markdown (images, configs) and were left alone. */
  ignored: string[];
}

/** Guesses the format of an import path. */
export function detectFormat(path: string): ImportFormat {
  const st = statSync(path);
  if (st.isFile()) {
    const ext = extname(path).toLowerCase();
    if (ext === '.json') return 'json';
    if (ext === '.yaml' || ext === '.yml') return 'yaml';
    return 'markdown';
  }
  if (
    existsSync(join(path, 'logseq', 'config.edn')) ||
    (existsSync(join(path, 'pages')) && existsSync(join(path, 'journals')))
  )
    return 'logseq';
  if (existsSync(join(path, '.obsidian'))) return 'obsidian';
  const files = walk(path).filter((f) => /\.md$/i.test(f.rel));
  const numbered = files.filter((f) => /^(\d{3,}|ODH-ADR-)[-_\w]*\.md$/i.test(basename(f.rel))).length;
  if (files.length > 0 && numbered / files.length >= 0.5) return 'adr';
  return 'markdown';
}

/** A file's frontmatter is kogral's own (from an export or another graph): import it as it is. */
function asKogralNode(text: string, f: SourceFile): KNode | undefined {
  if (!/^---\r?\n(?:[\s\S]*\n)?id: /.test(text) || !/\ntype: /.test(text)) return undefined;
  try {
    const node = parseNode(text, { path: f.rel });
    return isIdLike(node.id) && node.created ? node : undefined;
  } catch {
    return undefined;
  }
}

function skippedFrom(e: unknown, f: SourceFile): Skipped {
  if (e instanceof FrontmatterError) return { source: f.rel, reason: e.message, ...(e.line ? { line: e.line } : {}) };
  return { source: f.rel, reason: (e as Error).message };
}

/** A plain markdown (or Obsidian) file as a draft. */
function markdownDraft(f: SourceFile, text: string, type: NodeType, obsidian: boolean): Draft {
  const { fm, body } = parseSource(text);
  const c = fromFrontmatter(fm);
  const tags = [...c.tags];
  if (obsidian) for (const t of inlineTags(body)) if (!tags.includes(t)) tags.push(t);
  const d: Draft = {
    source: f.rel,
    title: c.title ?? firstHeading(body) ?? titleFromFile(f.rel),
    type,
    body: body.replace(/^\n/, ''),
    tags,
    aliases: c.aliases,
    metadata: c.metadata,
    relations: markdownLinks(body, f.rel).map((t) => ({ type: 'relates_to', target: t, weight: 1 })),
  };
  if (c.status) d.status = c.status;
  if (c.created) d.created = c.created;
  if (c.updated) d.updated = c.updated;
  if (c.author) d.author = c.author;
  return d;
}

/** The markdown files among `files` with their text; the others go to `out.ignored`, unreadable ones to `out.skipped`. */
function* readableMarkdown(
  files: Iterable<SourceFile>,
  opts: FormatOptions,
  out: FormatResult,
): Generator<{ f: SourceFile; text: string }> {
  for (const f of files) {
    if (!isMarkdownCandidate(f)) {
      out.ignored.push(f.rel);
      continue;
    }
    const r = readSource(f, opts.maxBytes);
    if (r.skipped) out.skipped.push(r.skipped);
    else yield { f, text: r.text as string };
  }
}

function eachMarkdown(
  files: SourceFile[],
  opts: FormatOptions,
  make: (f: SourceFile, text: string) => Draft,
): FormatResult {
  const out: FormatResult = { drafts: [], skipped: [], ignored: [] };
  for (const { f, text } of readableMarkdown(files, opts, out)) {
    const own = asKogralNode(text, f);
    if (own) {
      out.drafts.push({ ...ownDraft(own, f.rel) });
      continue;
    }
    try {
      out.drafts.push(make(f, text));
    } catch (e) {
      out.skipped.push(skippedFrom(e, f));
    }
  }
  return out;
}

function ownDraft(node: KNode, rel: string): Draft {
  return {
    source: rel,
    title: node.title,
    type: node.type,
    body: node.body,
    tags: node.tags,
    aliases: node.aliases,
    metadata: node.metadata,
    relations: [],
    node,
  };
}

/** Plain markdown folders, any layout, recursively; `--type` gives the node type. */
export function readMarkdown(root: string, opts: FormatOptions, obsidian = false): FormatResult {
  const st = statSync(root);
  const files = st.isFile() ? [{ abs: root, rel: basename(root), mtime: st.mtime }] : walk(root);
  return eachMarkdown(files, opts, (f, text) => markdownDraft(f, text, opts.type, obsidian));
}

// ---------------------------------------------------------------- Logseq

/** `key:: value` lines at the top of a Logseq page (page properties). */
function pageProperties(body: string): { props: Record<string, string>; rest: string } {
  const lines = body.split('\n');
  const props: Record<string, string> = {};
  let i = 0;
  while (i < lines.length) {
    const m = /^(?:- )?([A-Za-z][\w-]*):: ?(.*)$/.exec(lines[i] as string);
    if (!m) break;
    props[(m[1] as string).toLowerCase()] = (m[2] as string).trim();
    i++;
  }
  return { props, rest: lines.slice(i).join('\n').replace(/^\n+/, '') };
}

/** Values of a Logseq property: `[[A]], [[B C]]`, `a, b`, `#tag`. */
function propList(v: string | undefined): string[] {
  if (!v) return [];
  const links = [...v.matchAll(/\[\[([^\]]+)\]\]/g)].map((m) => (m[1] as string).trim());
  const rest = v.replace(/\[\[[^\]]+\]\]/g, ',');
  return [...new Set([...links, ...toList(rest)])].filter(Boolean);
}

function logseqTitle(rel: string, tripleLowbar: boolean): string {
  let base = basename(rel).replace(/\.(md|org)$/i, '');
  base = tripleLowbar ? base.replace(/___/g, '/') : base.replace(/\./g, '/');
  try {
    base = decodeURIComponent(base);
  } catch {}
  return base;
}

/** A Logseq graph: pages/ and journals/, page properties, [[links]], #tags, ((block refs)). */
export function readLogseq(root: string, opts: FormatOptions): FormatResult {
  const out: FormatResult = { drafts: [], skipped: [], ignored: [] };
  let tripleLowbar = true;
  try {
    const edn = readFileSync(join(root, 'logseq', 'config.edn'), 'utf8');
    const fmt = /^\s*:file\/name-format\s+:([\w-]+)/m.exec(edn)?.[1];
    tripleLowbar = fmt === undefined || fmt === 'triple-lowbar';
  } catch {}
  const files = walk(root).filter((f) => /^(pages|journals)\//.test(f.rel));
  for (const f of walk(root)) if (!/^(pages|journals)\//.test(f.rel)) out.ignored.push(f.rel);
  const blockOwner = new Map<string, string>();
  const refs: { draft: Draft; uuids: string[] }[] = [];
  for (const f of files) {
    const org = /\.org$/i.test(f.rel);
    if (!org && !/\.md$/i.test(f.rel)) {
      out.ignored.push(f.rel);
      continue;
    }
    const r = readSource(f, opts.maxBytes);
    if (r.skipped) {
      out.skipped.push(r.skipped);
      continue;
    }
    // Org pages hold the same things in org syntax: read as the markdown Logseq writes for them.
    const text = org ? orgToMarkdown(r.text as string) : (r.text as string);
    try {
      const { fm, body } = parseSource(text);
      const { props, rest } = pageProperties(body.replace(/^\n+/, ''));
      const c = fromFrontmatter(fm);
      const journal = f.rel.startsWith('journals/');
      const day = /(\d{4})[_-](\d{2})[_-](\d{2})/.exec(basename(f.rel));
      const title =
        journal && day ? `${day[1]}-${day[2]}-${day[3]}` : (c.title ?? props.title ?? logseqTitle(f.rel, tripleLowbar));
      const aliases = [...c.aliases, ...propList(props.alias)];
      if (journal && c.title && c.title !== title) aliases.push(c.title);
      const tags = [...c.tags, ...propList(props.tags)];
      for (const t of inlineTags(rest)) if (!tags.includes(t)) tags.push(t);
      const properties: Record<string, string> = {};
      for (const [k, v] of Object.entries(props)) if (!['title', 'alias', 'tags'].includes(k)) properties[k] = v;
      const metadata: Record<string, unknown> = { ...c.metadata };
      if (Object.keys(properties).length > 0) metadata.properties = properties;
      if (org) metadata.source_format = 'org';
      if (journal && day) metadata.date = title;
      const d: Draft = {
        source: f.rel,
        title,
        type: journal ? 'journal' : 'note',
        body: rest,
        tags,
        aliases: [...new Set(aliases)],
        metadata,
        relations: [],
      };
      if (c.created) d.created = c.created;
      else if (journal && day) d.created = `${title}T00:00:00.000Z`;
      // [[Links]] in property values (type:: [[Feature]]) are relations too; body links stay [[wikilinks]].
      for (const [k, v] of Object.entries(properties))
        for (const m of v.matchAll(/\[\[([^\]]+)\]\]/g)) {
          const t = (m[1] as string).trim();
          if (k !== 'id' && !d.relations.some((r) => r.target === t))
            d.relations.push({ type: 'relates_to', target: t, weight: 0.5 });
        }
      out.drafts.push(d);
      for (const m of rest.matchAll(/^\s*id:: ([0-9a-f-]{36})\s*$/gm)) blockOwner.set(m[1] as string, f.rel);
      const uuids = [...rest.matchAll(/\(\(([0-9a-f-]{36})\)\)/g)].map((m) => m[1] as string);
      if (uuids.length > 0) refs.push({ draft: d, uuids });
    } catch (e) {
      out.skipped.push(skippedFrom(e, f));
    }
  }
  // ((uuid)) block references point at the page that holds `id:: uuid`.
  for (const { draft, uuids } of refs) {
    for (const u of new Set(uuids)) {
      const owner = blockOwner.get(u);
      if (owner && owner !== draft.source && !draft.relations.some((r) => r.target === owner))
        draft.relations.push({ type: 'relates_to', target: owner, weight: 0.5 });
    }
  }
  return out;
}

// ---------------------------------------------------------------- ADRs

const ADR_STATUSES = ['proposed', 'accepted', 'rejected', 'deprecated', 'superseded', 'draft'];

interface AdrInfo {
  status?: string;
  supersededBy: string[];
  supersedes: string[];
}

/** `[text](0003-x.md)` and `ADR-0123` / `0123` references in a status line. */
function adrRefs(text: string, rel: string): string[] {
  const out = markdownLinks(text, rel);
  if (out.length > 0) return out;
  const n = /\b(?:ADR[- ]?)?(\d{3,})\b/i.exec(text)?.[1];
  return n ? [`#${n}`] : [];
}

/** Reads a status, in any of the ADR conventions: MADR front matter, `## Status`, `- Status:`, a table row. */
function adrStatus(fmStatus: unknown, body: string, rel: string): AdrInfo {
  const info: AdrInfo = { supersededBy: [], supersedes: [] };
  const lines: string[] = [];
  if (typeof fmStatus === 'string') lines.push(fmStatus);
  const bullet = /^[-*]\s*Status:\s*(.+)$/im.exec(body)?.[1];
  if (bullet) lines.push(bullet);
  const row = /^\|\s*Status\s*\|\s*([^|\n]+)/im.exec(body)?.[1];
  if (row) lines.push(row);
  const section = /^##\s*Status\s*\n+([\s\S]*?)(?=\n#{1,2}\s|$)/im.exec(body)?.[1];
  if (section) lines.push(...section.split('\n').filter((l) => l.trim()));
  for (const l of lines) {
    const low = l.toLowerCase();
    if (/super[sc]eded by/.test(low)) {
      info.status ??= 'superseded';
      info.supersededBy.push(...adrRefs(l.slice(low.search(/super[sc]eded by/)), rel));
      continue;
    }
    if (/^\W*super[sc]edes\b/.test(low)) {
      info.supersedes.push(...adrRefs(l, rel));
      continue;
    }
    const s = ADR_STATUSES.find((x) => new RegExp(`^\\W*${x}\\b`).test(low.trim()));
    if (s && !info.status) info.status = s;
  }
  // adr-tools writes "Supercedes [..](..)" anywhere near the top as well.
  for (const m of body.matchAll(/^(Super[sc]edes\s+.+)$/gim)) info.supersedes.push(...adrRefs(m[1] as string, rel));
  info.supersedes = [...new Set(info.supersedes)];
  info.supersededBy = [...new Set(info.supersededBy)];
  return info;
}

function adrDraft(f: SourceFile, text: string): { draft: Draft; info?: AdrInfo } {
  const { fm, body } = parseSource(text);
  const name = basename(f.rel);
  const looksAdr =
    /^(\d{3,}|ODH-ADR-)/i.test(name) &&
    !/template/i.test(name) &&
    (fm.status !== undefined || /^(##\s*Status|[-*]\s*Status:|\|\s*Status\s*\|)/im.test(body) || /^\d{3,}/.test(name));
  if (!looksAdr) return { draft: markdownDraft(f, text, 'note', false) };
  const c = fromFrontmatter(fm);
  const info = adrStatus(fm.status, body, f.rel);
  const heading = firstHeading(body);
  const title = (c.title ?? heading?.replace(/^\d+\.\s+/, '') ?? titleFromFile(f.rel)).trim();
  const metadata: Record<string, unknown> = { ...c.metadata };
  const num = /^(\d{3,})/.exec(name)?.[1];
  if (num) metadata.adr_number = num;
  const odh = /^(ODH-ADR-[A-Za-z-]*\d+)/i.exec(name)?.[1];
  if (odh) metadata.adr_id = odh;
  if (typeof fm.status === 'string' && fm.status.toLowerCase() !== info.status) metadata.status_text = fm.status;
  const tags = [...c.tags];
  const bulletTags = /^[-*]\s*Tags:\s*(.+)$/im.exec(body)?.[1];
  if (bulletTags) for (const t of toList(bulletTags.replace(/[[\]]/g, ''))) if (!tags.includes(t)) tags.push(t);
  const deciders = /^[-*]\s*Deciders:\s*(.+)$/im.exec(body)?.[1];
  if (deciders && metadata.deciders === undefined) metadata.deciders = deciders.trim();
  const date =
    c.created ??
    isoDate(/^Date:\s*(\S+)/m.exec(body)?.[1]) ??
    isoDate(/^[-*]\s*Date:\s*(\S+)/im.exec(body)?.[1]) ??
    isoDate(/^\|\s*Date\s*\|\s*([^|\n]+)/im.exec(body)?.[1]?.trim()) ??
    (/^(\d{4})(\d{2})(\d{2})-/.exec(name) ? isoDate(name.replace(/^(\d{4})(\d{2})(\d{2})-.*/, '$1-$2-$3')) : undefined);
  const draft: Draft = {
    source: f.rel,
    title,
    type: 'decision',
    body: body.replace(/^\n/, ''),
    tags,
    aliases: c.aliases,
    metadata,
    relations: markdownLinks(body, f.rel).map((t) => ({ type: 'relates_to', target: t, weight: 1 })),
  };
  if (info.status) draft.status = info.status;
  if (date) draft.created = date;
  if (c.author) draft.author = c.author;
  return { draft, info };
}

/** adr-tools, MADR and log4brains folders: numbered ADRs, status lines, supersede links both spellings. */
export function readAdr(root: string, opts: FormatOptions): FormatResult {
  const out: FormatResult = { drafts: [], skipped: [], ignored: [] };
  const infos: { draft: Draft; info: AdrInfo }[] = [];
  for (const { f, text } of readableMarkdown(walk(root), opts, out)) {
    const own = asKogralNode(text, f);
    if (own) {
      out.drafts.push(ownDraft(own, f.rel));
      continue;
    }
    try {
      const { draft, info } = adrDraft(f, text);
      out.drafts.push(draft);
      if (info) infos.push({ draft, info });
    } catch (e) {
      out.skipped.push(skippedFrom(e, f));
    }
  }
  const byNumber = new Map<string, Draft>();
  for (const { draft } of infos) {
    const n = draft.metadata.adr_number;
    if (typeof n === 'string') byNumber.set(String(Number(n)), draft);
  }
  const find = (ref: string): string | undefined => {
    if (ref.startsWith('#')) return byNumber.get(String(Number(ref.slice(1))))?.source;
    return ref;
  };
  const addRel = (from: Draft, target: string) => {
    if (target === from.source) return;
    from.relations = from.relations.filter((r) => !(r.target === target && r.type === 'relates_to'));
    if (!from.relations.some((r) => r.type === 'supersedes' && r.target === target))
      from.relations.push({ type: 'supersedes', target, weight: 1 });
  };
  const bySource = new Map(out.drafts.map((d) => [d.source, d]));
  for (const { draft, info } of infos) {
    for (const ref of info.supersedes) {
      const t = find(ref);
      if (t) addRel(draft, t);
    }
    for (const ref of info.supersededBy) {
      const t = find(ref);
      const newer = t ? bySource.get(t) : undefined;
      if (newer) addRel(newer, draft.source);
    }
  }
  return out;
}

// ---------------------------------------------------------------- kogral's own JSON / YAML export

/** One node object of an export (or an MCP `export` result) as a node; throws with what is wrong. */
export function nodeFromObject(o: unknown): KNode {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('not an object');
  const r = o as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
  const id = str('id');
  if (!id || !isIdLike(id)) throw new Error(`invalid id '${String(r.id)}'`);
  if (!isNodeType(r.type))
    throw new Error(`unknown type '${String(r.type)}' (expected one of ${NODE_TYPES.join(', ')})`);
  const relations: Relation[] = [];
  for (const x of Array.isArray(r.relations) ? r.relations : []) {
    const rel = x as Record<string, unknown>;
    if (!isRelationType(rel.type)) throw new Error(`unknown relation '${String(rel.type)}'`);
    if (typeof rel.target !== 'string') throw new Error('a relation has no target');
    relations.push({ type: rel.type, target: rel.target, weight: rel.weight === undefined ? 1 : Number(rel.weight) });
  }
  const node: KNode = {
    id,
    type: r.type,
    title: str('title') ?? id,
    tags: toList(r.tags),
    aliases: toList(r.aliases),
    status: str('status') ?? '',
    created: str('created') ?? '',
    updated: str('updated') ?? str('created') ?? '',
    relations,
    metadata: r.metadata && typeof r.metadata === 'object' ? { ...(r.metadata as Record<string, unknown>) } : {},
    body: str('body') ?? '',
  };
  if (str('author')) node.author = str('author');
  if (str('source')) node.source = str('source');
  if (str('source_root')) node.source_root = str('source_root');
  return node;
}

/** Reads a JSON or YAML export (`{ nodes: [...] }`, or a bare list of nodes). */
export function readExport(file: string, format: 'json' | 'yaml', opts: FormatOptions): FormatResult {
  const out: FormatResult = { drafts: [], skipped: [], ignored: [] };
  const rel = basename(file);
  const r = readSource({ abs: file, rel, mtime: statSync(file).mtime }, Math.max(opts.maxBytes, 512 * 1024 * 1024));
  if (r.skipped) {
    out.skipped.push(r.skipped);
    return out;
  }
  let doc: unknown;
  try {
    doc = format === 'json' ? JSON.parse(r.text as string) : yamlLib().parse(r.text as string, { maxAliasCount: 100 });
  } catch (e) {
    const err = e as { message: string; linePos?: { line: number }[] };
    const line = err.linePos?.[0]?.line;
    out.skipped.push({
      source: rel,
      reason: `not valid ${format.toUpperCase()}: ${String(err.message).split('\n')[0]}`,
      ...(line ? { line } : {}),
    });
    return out;
  }
  const list = Array.isArray(doc) ? doc : (doc as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(list)) {
    out.skipped.push({ source: rel, reason: 'no "nodes" list: not a kogral export' });
    return out;
  }
  list.forEach((o, i) => {
    try {
      const node = nodeFromObject(o);
      out.drafts.push(ownDraft(node, `${rel}#nodes[${i}]`));
    } catch (e) {
      out.skipped.push({ source: `${rel}#nodes[${i}]`, reason: (e as Error).message });
    }
  });
  return out;
}
