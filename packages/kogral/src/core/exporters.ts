import { join } from 'node:path';
import { usageError } from '@stratumiops/shared/errors';

import type { NoteFiles } from './files.js';
import type { Graph } from './graph.js';
import { serializeNode } from './markdown.js';
import { type KNode, type NodeType, typeDir } from './model.js';
import { yamlLib } from './yaml-lite.js';

export const EXPORT_FORMATS = ['markdown', 'json', 'yaml'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFilter {
  type?: NodeType;
  tags?: string[];
  status?: string;
  ids?: string[];
}

/** A node as a plain object, every field present: what json and yaml exports hold. */
export function nodeObject(n: KNode): Record<string, unknown> {
  return {
    id: n.id,
    type: n.type,
    title: n.title,
    status: n.status,
    tags: n.tags,
    aliases: n.aliases,
    created: n.created,
    updated: n.updated,
    ...(n.author ? { author: n.author } : {}),
    ...(n.source ? { source: n.source } : {}),
    ...(n.source_root ? { source_root: n.source_root } : {}),
    relations: n.relations,
    metadata: n.metadata,
    body: n.body,
  };
}

export function selectNodes(g: Graph, f: ExportFilter = {}): KNode[] {
  let list = g.filter({
    ...(f.type ? { type: f.type } : {}),
    ...(f.tags ? { tags: f.tags } : {}),
    ...(f.status ? { status: f.status } : {}),
  });
  if (f.ids && f.ids.length > 0) list = list.filter((s) => f.ids?.includes(s.node.id));
  return list.map((s) => s.node).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function exportDocument(graphName: string, nodes: KNode[]): Record<string, unknown> {
  return { kogral: 1, graph: graphName, count: nodes.length, nodes: nodes.map(nodeObject) };
}

export function toJson(graphName: string, nodes: KNode[]): string {
  return `${JSON.stringify(exportDocument(graphName, nodes), null, 2)}\n`;
}

export function toYaml(graphName: string, nodes: KNode[]): string {
  return yamlLib().stringify(exportDocument(graphName, nodes), { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * Writes one markdown file a node (`<type>s/<id>.md`, the same files as the graph) into `dir`.
 * A folder that holds other files is refused, so that an export never mixes with unrelated files.
 */
export function toMarkdownFolder(files: NoteFiles, dir: string, nodes: KNode[]): string[] {
  files.mkdir(dir);
  const foreign = (files.list(dir) ?? []).filter(
    (n) => !/^(notes|decisions|guidelines|patterns|journals|executions)$/.test(n),
  );
  if (foreign.length > 0)
    throw usageError(`${dir} is not empty (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`, {
      hint: 'export into a new or empty folder',
    });
  const written: string[] = [];
  for (const n of nodes) {
    const d = join(dir, typeDir(n.type));
    files.mkdir(d);
    const p = join(d, `${n.id}.md`);
    files.write(p, serializeNode(n));
    written.push(p);
  }
  return written;
}
