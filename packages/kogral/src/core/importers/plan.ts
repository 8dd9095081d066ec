import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { usageError } from '@stratumiops/shared/errors';
import type { Graph } from '../graph.js';
import { makeId, slugify } from '../ids.js';
import type { Kogral } from '../kogral.js';
import { serializeNode } from '../markdown.js';
import { DEFAULT_STATUS, type KNode, type NodeType, typeDir } from '../model.js';
import { DEFAULT_MAX_BYTES } from '../store.js';
import type { Draft, ImportFormat, Skipped } from './common.js';
import { detectFormat, type FormatResult, readAdr, readExport, readLogseq, readMarkdown } from './formats.js';

export interface PlannedNode {
  action: 'create' | 'update' | 'unchanged';
  node: KNode;
  /** The existing file, for updates. */
  path?: string;
}

export interface ImportPlan {
  format: ImportFormat;
  root: string;
  /** Recorded as `source_root` on every imported node. */
  rootName: string;
  nodes: PlannedNode[];
  skipped: Skipped[];
  ignored: string[];
  /** Links that could not be resolved to a node (kept in the text, not as relations). */
  unresolved: { from: string; target: string }[];
}

export interface ImportOptions {
  from?: ImportFormat;
  /** Node type of plain markdown files. */
  type?: NodeType;
  maxBytes?: number;
}

const key = (root: string | undefined, source: string | undefined) => `${root ?? ''}\u0000${source ?? ''}`;

/** Reads a folder (or an export file) and works out what importing it would create or change. */
export function planImport(kg: Kogral, path: string, opts: ImportOptions = {}): ImportPlan {
  const root = resolve(path);
  let st: import('node:fs').Stats;
  try {
    st = statSync(root);
  } catch {
    throw usageError(`nothing to import at ${path}`, { hint: 'pass a folder, or a .json/.yaml export file' });
  }
  const format = opts.from ?? detectFormat(root);
  const fo = { type: opts.type ?? 'note', maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES };
  if (!st.isDirectory() && !['json', 'yaml', 'markdown'].includes(format))
    throw usageError(`--from ${format} imports a folder, and ${path} is a file`);
  let read: FormatResult;
  switch (format) {
    case 'logseq':
      read = readLogseq(root, fo);
      break;
    case 'adr':
      read = readAdr(root, fo);
      break;
    case 'obsidian':
      read = readMarkdown(root, fo, true);
      break;
    case 'json':
    case 'yaml':
      if (st.isDirectory()) throw usageError(`--from ${format} imports an export file, and ${path} is a folder`);
      read = readExport(root, format, fo);
      break;
    default:
      read = readMarkdown(root, fo, false);
  }
  const rootName = basename(root);
  const graph = kg.graph();
  return resolvePlan(graph, read, { format, root, rootName, mtimeOf: (d) => mtime(root, d, st.isDirectory()) });
}

function mtime(root: string, d: Draft, isDir: boolean): string {
  try {
    const p = isDir ? `${root}/${d.source}` : root;
    return statSync(p).mtime.toISOString();
  } catch {
    return new Date(0).toISOString();
  }
}

function resolvePlan(
  graph: Graph,
  read: FormatResult,
  ctx: { format: ImportFormat; root: string; rootName: string; mtimeOf: (d: Draft) => string },
): ImportPlan {
  const existingBySource = new Map<string, { node: KNode; path: string }>();
  for (const s of graph.nodes) if (s.node.source) existingBySource.set(key(s.node.source_root, s.node.source), s);
  const ids = new Map<Draft, string>();
  const taken = new Set<string>();
  for (const d of read.drafts) {
    let id: string;
    if (d.node) id = d.node.id;
    else {
      const prev = existingBySource.get(key(ctx.rootName, d.source));
      id = prev?.node.id ?? makeId(d.title, `import:${ctx.rootName}:${d.source}`);
      for (let n = 2; taken.has(id); n++) id = makeId(d.title, `import:${ctx.rootName}:${d.source}:${n}`);
    }
    taken.add(id);
    ids.set(d, id);
  }
  // Names a relation may use: another file's path (with or without .md), a title, an alias.
  const names = new Map<string, string>();
  const addName = (n: string, id: string) => {
    const k = n.toLowerCase();
    if (!names.has(k)) names.set(k, id);
  };
  for (const d of read.drafts) {
    const id = ids.get(d) as string;
    addName(d.source, id);
    addName(d.source.replace(/\.(md|markdown)$/i, ''), id);
  }
  for (const d of read.drafts) {
    const id = ids.get(d) as string;
    addName(d.title, id);
    for (const a of d.aliases) addName(a, id);
  }
  const resolveName = (t: string): string | undefined =>
    names.get(t.toLowerCase()) ?? graph.resolveName(t)?.node.id ?? names.get(`slug:${slugify(t)}`);

  const plan: ImportPlan = {
    format: ctx.format,
    root: ctx.root,
    rootName: ctx.rootName,
    nodes: [],
    skipped: read.skipped,
    ignored: read.ignored,
    unresolved: [],
  };
  for (const d of read.drafts) {
    const id = ids.get(d) as string;
    let node: KNode;
    let prev: { node: KNode; path: string } | undefined;
    if (d.node) {
      node = d.node;
      prev = graph.byId.get(id);
    } else {
      prev = existingBySource.get(key(ctx.rootName, d.source));
      const when = ctx.mtimeOf(d);
      node = {
        id,
        type: d.type,
        title: d.title,
        tags: d.tags,
        aliases: d.aliases,
        status: (d.status ?? DEFAULT_STATUS[d.type]).toLowerCase(),
        created: d.created ?? when,
        updated: d.updated ?? when,
        relations: [],
        metadata: d.metadata,
        body: d.body,
        source: d.source,
        source_root: ctx.rootName,
      };
      if (d.author) node.author = d.author;
      for (const r of d.relations) {
        const target = resolveName(r.target);
        if (!target) {
          plan.unresolved.push({ from: id, target: r.target });
          continue;
        }
        if (target === id || node.relations.some((x) => x.type === r.type && x.target === target)) continue;
        node.relations.push({ type: r.type, target, weight: r.weight });
      }
    }
    const action = !prev ? 'create' : serializeNode(prev.node) === serializeNode(node) ? 'unchanged' : 'update';
    plan.nodes.push({ action, node, ...(prev ? { path: prev.path } : {}) });
  }
  return plan;
}

export interface ImportSummary {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
}

export function summarize(plan: ImportPlan): ImportSummary {
  const count = (a: PlannedNode['action']) => plan.nodes.filter((n) => n.action === a).length;
  return {
    created: count('create'),
    updated: count('update'),
    unchanged: count('unchanged'),
    skipped: plan.skipped.length,
  };
}

/** Writes a plan's new and changed nodes under the graph lock, as one commit. */
export async function applyImport(kg: Kogral, plan: ImportPlan): Promise<ImportSummary> {
  const todo = plan.nodes.filter((n) => n.action !== 'unchanged');
  if (todo.length > 0) {
    await kg.store.lock(async () => {
      const moved: string[] = [];
      const items = todo.map((n) => {
        // A node whose type changed moves to its type's folder.
        if (n.path && basename(dirname(n.path)) !== typeDir(n.node.type)) {
          moved.push(n.path);
          return { node: n.node };
        }
        return { node: n.node, ...(n.path ? { path: n.path } : {}) };
      });
      const paths = kg.putAll(items);
      for (const m of moved) if (!paths.includes(m)) kg.store.remove(m);
      await kg.commitPaths(
        [...paths, ...moved],
        `kogral: import ${todo.length} node(s) from ${plan.rootName} (${plan.format})`,
        moved,
      );
    });
  }
  return summarize(plan);
}
