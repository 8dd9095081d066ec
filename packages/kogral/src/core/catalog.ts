/**
 * Lookups that answer from the index instead of loading every file: `list` and `show` on a
 * large graph read the index (refreshed first) and only the node files they print.
 */

import { byCodeUnits } from '@stratumiops/shared/order';
import { type Edge, type Graph, nodeNames, outgoingEdges, refKeys } from './graph.js';
import { isProblem } from './markdown.js';
import type { KNode, NodeType, Problem } from './model.js';
import type { SearchFilters } from './search/types.js';
import type { Store, StoredNode } from './store.js';

/** A node as the index knows it: enough to list it, name it and find its file. */
export interface CatalogEntry {
  id: string;
  type: NodeType;
  title: string;
  status: string;
  tags: string[];
  created: string;
  updated: string;
  path: string;
  source?: string;
  source_root?: string;
}

export type EntrySort = 'updated' | 'created' | 'title' | 'id';

/** Which nodes to list, in what order, how many. */
export interface EntryQuery extends SearchFilters {
  sort?: EntrySort;
  limit?: number;
}

export interface EntryPage {
  entries: CatalogEntry[];
  /** How many passed the filters, before the limit. */
  total: number;
}

/**
 * The order `list` shows: newest first for dates, alphabetical for title and id, then by path
 * (so that both lookups agree on ties). Titles and ids go through one collator (String#localeCompare
 * builds one per call); dates are ISO 8601 text, whose code-unit order is time order, and need none
 * (making a collator loads ICU's collation data: milliseconds of every `kogral list`).
 */
export function entryOrder(sort: EntrySort): (a: [string, string], b: [string, string]) => number {
  if (sort === 'title' || sort === 'id') {
    const c = new Intl.Collator().compare;
    return (a, b) => c(a[0], b[0]) || byCodeUnits(a[1], b[1]);
  }
  return (a, b) => byCodeUnits(b[0], a[0]) || byCodeUnits(a[1], b[1]);
}

/** What the index offers for lookups (implemented by adapters/sqlite-index.ts). */
export interface Catalog {
  /** Readable nodes passing the filters (of nodes sharing an id, only the first), sorted and cut as asked. */
  entries(query: EntryQuery): EntryPage;
  /** Files that are not readable nodes, and nodes whose id another file already has. */
  problems(): Problem[];
  /** The node with exactly this id. */
  byId(id: string): CatalogEntry | undefined;
  /** The first node answering to the first of these keys that any node answers to (see nodeNames). */
  byName(keys: string[]): CatalogEntry | undefined;
  /** Ids starting with a prefix, at most `max`. */
  idsWithPrefix(prefix: string, max: number): string[];
  /** Files of nodes with a relation or [[link]] to one of these keys: where backlinks can come from. */
  linkSources(keys: string[]): { path: string; type: NodeType }[];
}

/** The lookups `show`, `get` and `list` make, from the whole graph in memory or from the index. */
export interface NodeLookup {
  readonly problems: Problem[];
  resolve(ref: string): StoredNode | undefined;
  outgoing(node: KNode): Edge[];
  backlinks(id: string): Edge[];
  title(id: string): string | undefined;
  entries(query: EntryQuery): EntryPage;
}

export function entryOf(s: StoredNode): CatalogEntry {
  const n = s.node;
  return {
    id: n.id,
    type: n.type,
    title: n.title,
    status: n.status,
    tags: n.tags,
    created: n.created,
    updated: n.updated,
    path: s.path,
    ...(n.source ? { source: n.source } : {}),
    ...(n.source_root ? { source_root: n.source_root } : {}),
  };
}

/** The in-memory graph as a NodeLookup: the fallback when there is no usable index. */
export function graphLookup(g: Graph): NodeLookup {
  return {
    problems: g.problems,
    resolve: (ref) => g.resolve(ref),
    outgoing: (node) => g.outgoing(node),
    backlinks: (id) => g.backlinks(id),
    title: (id) => g.byId.get(id)?.node.title,
    entries: (q) => {
      let all = g.filter(q).map(entryOf);
      if (q.sort) {
        const order = entryOrder(q.sort);
        const field = q.sort;
        all = all
          .map((e) => ({ e, k: [e[field], e.path] as [string, string] }))
          .sort((a, b) => order(a.k, b.k))
          .map((x) => x.e);
      }
      return { entries: q.limit ? all.slice(0, q.limit) : all, total: all.length };
    },
  };
}

/**
 * A NodeLookup over the index: names resolve as Graph resolves them; backlinks come from the
 * few files whose links could name the node, each read and resolved exactly.
 */
export class IndexedLookup implements NodeLookup {
  constructor(
    private readonly store: Store,
    private readonly catalog: Catalog,
  ) {}

  get problems(): Problem[] {
    return this.catalog.problems();
  }

  private read(e: { path: string; type: NodeType }): StoredNode | undefined {
    const r = this.store.read(e.path, e.type);
    return isProblem(r) ? undefined : { node: r, path: e.path };
  }

  private resolveName(ref: string): CatalogEntry | undefined {
    return this.catalog.byId(ref) ?? this.catalog.byName(refKeys(ref));
  }

  resolve(ref: string): StoredNode | undefined {
    let e = this.resolveName(ref);
    const key = ref.trim().toLowerCase();
    if (!e && key.length >= 4) {
      const ids = this.catalog.idsWithPrefix(key, 2);
      if (ids.length === 1) e = this.catalog.byId(ids[0] as string);
    }
    return e && this.read(e);
  }

  outgoing(node: KNode): Edge[] {
    return outgoingEdges(node, (ref) => this.resolveName(ref)?.id);
  }

  backlinks(id: string): Edge[] {
    const target = this.catalog.byId(id);
    const self = target && this.read(target);
    if (!target || !self) return [];
    const out: Edge[] = [];
    for (const src of this.catalog.linkSources([id, ...nodeNames(self.node)])) {
      if (src.path === target.path) continue;
      const s = this.read(src);
      // A file whose id an earlier file holds is a problem, not a node: its links count for nothing.
      if (!s || this.catalog.byId(s.node.id)?.path !== src.path) continue;
      for (const e of this.outgoing(s.node)) if (e.to === id && !e.missing && e.from !== id) out.push(e);
    }
    return out;
  }

  title(id: string): string | undefined {
    return this.catalog.byId(id)?.title;
  }

  entries(query: EntryQuery): EntryPage {
    return this.catalog.entries(query);
  }
}
