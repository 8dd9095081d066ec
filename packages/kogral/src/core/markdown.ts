import { isIdLike } from './ids.js';
import {
  DEFAULT_STATUS,
  isNodeType,
  isRelationType,
  KNOWN_KEYS,
  type KNode,
  NODE_TYPES,
  type NodeType,
  type Problem,
  RELATION_TYPES,
  type Relation,
} from './model.js';
import { parseLite, yamlLib, yamlScalar, yamlString } from './yaml-lite.js';

export class FrontmatterError extends Error {
  constructor(
    message: string,
    /** 1-based line in the file. */
    readonly line?: number,
  ) {
    super(message);
  }
}

export interface SplitDoc {
  /** The YAML between the fences, or undefined when the file has no frontmatter. */
  yaml?: string;
  /** The fence style found: YAML (`---`) or TOML (`+++`, Hugo). */
  fence?: '---' | '+++';
  body: string;
  /** 1-based line of the first YAML line. */
  yamlLine: number;
}

/** Splits `---\nYAML\n---\nbody`. CRLF and a BOM are accepted. An unclosed fence is an error. */
export function splitFrontmatter(input: string): SplitDoc {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const m = /^(---|\+\+\+)[ \t]*\r?\n/.exec(text);
  if (!m) return { body: text, yamlLine: 0 };
  const fence = m[1] as '---' | '+++';
  const rest = text.slice(m[0].length);
  const close = new RegExp(`^${fence === '---' ? '(---|\\.\\.\\.)' : '\\+\\+\\+'}[ \\t]*$`, 'm');
  const c = close.exec(rest);
  if (!c) throw new FrontmatterError(`frontmatter opened with '${fence}' on line 1 is never closed`, 1);
  const yaml = rest.slice(0, c.index).replace(/\r\n/g, '\n');
  let after = rest.slice(c.index + c[0].length);
  if (after.startsWith('\r\n')) after = after.slice(2);
  else if (after.startsWith('\n')) after = after.slice(1);
  return { yaml, fence, body: after, yamlLine: 2 };
}

/** Parses frontmatter YAML into a plain object; errors carry the file line. */
export function parseYaml(yaml: string, firstLine = 2): Record<string, unknown> {
  const lite = parseLite(yaml);
  if (lite) return lite;
  let doc: unknown;
  try {
    doc = yamlLib().parse(yaml, { prettyErrors: false, uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    const err = e as { message: string; pos?: [number, number] };
    const lines = yaml.replace(/\n$/, '').split('\n').length;
    const at = err.pos ? Math.min(lines, yaml.slice(0, err.pos[0]).split('\n').length) : 1;
    const msg = String(err.message)
      .split('\n')[0]
      ?.replace(/ at line \d+, column \d+:?$/, '');
    throw new FrontmatterError(`frontmatter is not valid YAML: ${msg}`, at + firstLine - 1);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new FrontmatterError('frontmatter must be a YAML mapping (key: value lines)', firstLine);
  return doc as Record<string, unknown>;
}

/** The 1-based file line where `key:` starts in the frontmatter, for error messages. */
function keyLine(yaml: string, key: string, firstLine: number): number {
  const i = yaml.split('\n').findIndex((l) => l.startsWith(`${key}:`));
  return i < 0 ? firstLine : i + firstLine;
}

const asString = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  return undefined;
};

/** `[a, b]`, `a, b` or `a` → ['a', 'b']; drops empties and a leading '#'. */
export function toList(v: unknown): string[] {
  const raw = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : v === undefined || v === null ? [] : [v];
  const out: string[] = [];
  for (const x of raw) {
    const s = asString(x)?.trim().replace(/^#/, '');
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

export interface ParseContext {
  /** For messages. */
  path: string;
  /** Used when the frontmatter has no id: from the file name (computed only then). */
  fallbackId?: string | (() => string);
  /** Used when the frontmatter has no type: the folder's type. */
  fallbackType?: NodeType;
}

/** Reads a node file. Throws FrontmatterError (with a line) when it is not a valid node. */
export function parseNode(text: string, ctx: ParseContext): KNode {
  const split = splitFrontmatter(text);
  if (split.fence === '+++')
    throw new FrontmatterError('frontmatter is TOML (+++), kogral reads YAML frontmatter (---)', 1);
  const yaml = split.yaml ?? '';
  const fm = split.yaml === undefined ? {} : parseYaml(yaml, split.yamlLine);
  const line = (k: string) => keyLine(yaml, k, split.yamlLine);

  const rawType = fm.type ?? ctx.fallbackType;
  if (!isNodeType(rawType))
    throw new FrontmatterError(
      rawType === undefined
        ? 'no type in the frontmatter'
        : `unknown type '${String(rawType)}' (expected one of ${NODE_TYPES.join(', ')})`,
      line('type'),
    );
  const id = asString(fm.id) ?? (typeof ctx.fallbackId === 'function' ? ctx.fallbackId() : ctx.fallbackId);
  if (!id || !isIdLike(id))
    throw new FrontmatterError(
      id ? `id '${id}' is not valid (lowercase letters, digits and dashes)` : 'no id in the frontmatter',
      line('id'),
    );
  let body = split.body;
  if (body.startsWith('\n')) body = body.slice(1);
  const title = asString(fm.title) ?? /^#\s+(.+)$/m.exec(body)?.[1]?.trim() ?? id;

  const relations: Relation[] = [];
  if (fm.relations !== undefined && fm.relations !== null) {
    if (!Array.isArray(fm.relations))
      throw new FrontmatterError('relations must be a list of {type, target, weight}', line('relations'));
    for (const r of fm.relations as unknown[]) {
      const rec = (r ?? {}) as Record<string, unknown>;
      const type = rec.type;
      const target = asString(rec.target);
      if (!isRelationType(type))
        throw new FrontmatterError(
          `unknown relation '${String(type)}' (expected one of ${RELATION_TYPES.join(', ')})`,
          line('relations'),
        );
      if (!target) throw new FrontmatterError(`a '${type}' relation has no target`, line('relations'));
      const w = rec.weight === undefined ? 1 : Number(rec.weight);
      if (!Number.isFinite(w) || w < 0 || w > 1)
        throw new FrontmatterError(`relation weight must be a number from 0 to 1`, line('relations'));
      relations.push({ type, target, weight: w });
    }
  }
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fm)) if (!(KNOWN_KEYS as readonly string[]).includes(k)) metadata[k] = v;
  const created = asString(fm.created) ?? '';
  const node: KNode = {
    id,
    type: rawType,
    title,
    tags: toList(fm.tags),
    aliases: toList(fm.aliases),
    status: asString(fm.status) ?? DEFAULT_STATUS[rawType],
    created,
    updated: asString(fm.updated) ?? created,
    relations,
    metadata,
    body,
  };
  const author = asString(fm.author);
  if (author) node.author = author;
  const source = asString(fm.source);
  if (source) node.source = source;
  const sourceRoot = asString(fm.source_root);
  if (sourceRoot) node.source_root = sourceRoot;
  return node;
}

/** The same node, or a Problem naming the file and line. */
export function tryParseNode(text: string, ctx: ParseContext): KNode | Problem {
  try {
    return parseNode(text, ctx);
  } catch (e) {
    if (e instanceof FrontmatterError)
      return { path: ctx.path, ...(e.line ? { line: e.line } : {}), message: e.message };
    throw e;
  }
}

export const isProblem = <T extends object>(x: T | Problem): x is Problem =>
  'message' in x && !('body' in x) && !('node' in x);

function flowList(items: string[]): string {
  return `[${items.map((s) => yamlString(s, true)).join(', ')}]`;
}

/** A node as its markdown file: YAML frontmatter in a fixed key order, then the body. */
export function serializeNode(n: KNode): string {
  const lines: string[] = ['---'];
  lines.push(`id: ${yamlString(n.id)}`);
  lines.push(`type: ${n.type}`);
  lines.push(`title: ${yamlString(n.title)}`);
  lines.push(`status: ${yamlString(n.status)}`);
  lines.push(`tags: ${flowList(n.tags)}`);
  if (n.aliases.length > 0) lines.push(`aliases: ${flowList(n.aliases)}`);
  lines.push(`created: ${yamlString(n.created)}`);
  lines.push(`updated: ${yamlString(n.updated)}`);
  if (n.author) lines.push(`author: ${yamlString(n.author)}`);
  if (n.source) lines.push(`source: ${yamlString(n.source)}`);
  if (n.source_root) lines.push(`source_root: ${yamlString(n.source_root)}`);
  if (n.relations.length > 0) {
    lines.push('relations:');
    for (const r of n.relations)
      lines.push(`  - {type: ${r.type}, target: ${yamlString(r.target, true)}, weight: ${r.weight}}`);
  }
  for (const [k, v] of Object.entries(n.metadata)) {
    if (v === undefined) continue;
    const safeKey = /^[A-Za-z_][\w-]*$/.test(k) ? k : JSON.stringify(k);
    const scalar = yamlScalar(v);
    if (scalar !== undefined) lines.push(`${safeKey}: ${scalar}`);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) lines.push(`${safeKey}: ${flowList(v)}`);
    else
      lines.push(
        yamlLib()
          .stringify({ [k]: v }, { lineWidth: 0 })
          .trimEnd(),
      );
  }
  lines.push('---');
  return `${lines.join('\n')}\n\n${n.body}`;
}

/** Targets of `[[wikilinks]]` in a body: `[[Page]]`, `[[Page|label]]`, `[[Page#Heading]]`, `[[id]]`. */
export function wikilinks(body: string): string[] {
  const out: string[] = [];
  // Most bodies have no link: skip the code-stripping pass (a regex over the whole body) for them.
  if (!body.includes('[[')) return out;
  const text = stripCode(body);
  const re = /(!?)\[\[([^[\]\n]+?)\]\]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const target = (m[2] as string).split('|')[0]?.split('#')[0]?.trim();
    if (!target) continue;
    // Embedded files (![[diagram.png]]) are attachments, not nodes.
    if (m[1] && /\.(png|jpe?g|gif|svg|webp|pdf|mp4|mp3|excalidraw)$/i.test(target)) continue;
    if (!out.includes(target)) out.push(target);
  }
  return out;
}

/** The body without fenced code blocks and inline code, for link and tag extraction. */
export function stripCode(body: string): string {
  return body.replace(/^(\s*)(```|~~~)[^\n]*\n[\s\S]*?^\s*\2[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}
