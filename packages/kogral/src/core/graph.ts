import { slugify } from './ids.js';
import { wikilinks } from './markdown.js';
import type { KNode, NodeType, Problem, RelationType } from './model.js';
import type { StoredNode } from './store.js';

export interface Edge {
  from: string;
  to: string;
  type: RelationType;
  weight: number;
  /** `frontmatter` for declared relations, `wikilink` for [[links]] in the body. */
  via: 'frontmatter' | 'wikilink';
  /** What the link named, when it did not resolve to a node. */
  missing?: string;
}

/** An in-memory view of the whole graph: lookups by id, title or alias, relations and backlinks. */
export class Graph {
  readonly byId = new Map<string, StoredNode>();
  private readonly byName = new Map<string, string[]>();
  private edgesCache?: Edge[];

  constructor(
    readonly nodes: StoredNode[],
    readonly problems: Problem[] = [],
  ) {
    for (const s of nodes) {
      this.byId.set(s.node.id, s);
      for (const name of nodeNames(s.node)) {
        const list = this.byName.get(name) ?? [];
        if (!list.includes(s.node.id)) list.push(s.node.id);
        this.byName.set(name, list);
      }
    }
  }

  get size(): number {
    return this.nodes.length;
  }

  /**
   * A node from what a user or a link calls it: its id, title, an alias, the slug of its title,
   * its import source, or a unique id prefix.
   */
  resolve(ref: string): StoredNode | undefined {
    const named = this.resolveName(ref);
    if (named) return named;
    const key = ref.trim().toLowerCase();
    if (key.length < 4) return undefined;
    const hits = this.withPrefix(key, 2);
    return hits.length === 1 ? this.byId.get(hits[0] as string) : undefined;
  }

  /** What a link names: an id, title, alias, title slug or import source; never an id prefix. */
  resolveName(ref: string): StoredNode | undefined {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    for (const k of refKeys(ref)) {
      const ids = this.byName.get(k);
      if (ids && ids.length >= 1) return this.byId.get(ids[0] as string);
    }
    return undefined;
  }

  private sortedIds?: string[];

  /** Ids starting with a prefix (at most `max`), by binary search over the sorted ids. */
  private withPrefix(prefix: string, max: number): string[] {
    this.sortedIds ??= [...this.byId.keys()].sort();
    const ids = this.sortedIds;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ids[mid] as string) < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < ids.length && out.length < max && (ids[i] as string).startsWith(prefix); i++)
      out.push(ids[i] as string);
    return out;
  }

  /** All ids a reference could mean (for "ambiguous" messages). */
  candidates(ref: string): string[] {
    const key = ref.trim().toLowerCase();
    return this.byName.get(key) ?? this.withPrefix(key, 20);
  }

  /** Outgoing edges of one node: declared relations and body wikilinks (as relates_to). */
  outgoing(node: KNode): Edge[] {
    return outgoingEdges(node, (ref) => this.resolveName(ref)?.node.id);
  }

  edges(): Edge[] {
    this.edgesCache ??= this.nodes.flatMap((s) => this.outgoing(s.node));
    return this.edgesCache;
  }

  backlinks(id: string): Edge[] {
    return this.edges().filter((e) => e.to === id && !e.missing && e.from !== id);
  }

  dangling(): Edge[] {
    return this.edges().filter((e) => e.missing);
  }

  /** Nodes within `depth` relations of `id`, either direction. */
  neighbourhood(id: string, depth: number): Set<string> {
    const seen = new Set([id]);
    let frontier = [id];
    const edges = this.edges().filter((e) => !e.missing);
    for (let d = 0; d < depth; d++) {
      const next: string[] = [];
      for (const e of edges) {
        for (const [a, b] of [
          [e.from, e.to],
          [e.to, e.from],
        ] as const) {
          if (frontier.includes(a) && !seen.has(b)) {
            seen.add(b);
            next.push(b);
          }
        }
      }
      frontier = next;
    }
    return seen;
  }

  filter(f: { type?: NodeType; tags?: string[]; status?: string }): StoredNode[] {
    const tags = (f.tags ?? []).map((t) => t.toLowerCase());
    return this.nodes.filter(
      ({ node }) =>
        (!f.type || node.type === f.type) &&
        (!f.status || node.status.toLowerCase() === f.status.toLowerCase()) &&
        tags.every((t) => node.tags.some((x) => x.toLowerCase() === t)),
    );
  }
}

/** The names a node answers to in links and lookups (besides its id). */
export function nodeNames(n: KNode): string[] {
  const out = [n.title.toLowerCase(), `slug:${slugify(n.title, 200)}`];
  for (const a of n.aliases) out.push(a.toLowerCase(), `slug:${slugify(a, 200)}`);
  if (n.source) {
    out.push(`src:${n.source.toLowerCase()}`);
    out.push(`src:${n.source.replace(/\.md$/i, '').toLowerCase()}`);
  }
  return out;
}

/** The keys of `nodeNames` a reference (a link target, a lookup) can match, in the order they are tried. */
export function refKeys(ref: string): string[] {
  const key = ref.trim().toLowerCase();
  return [key, `slug:${slugify(ref, 200)}`, `src:${key}`];
}

/**
 * Outgoing edges of one node: declared relations and body wikilinks (as relates_to), each
 * target resolved to a node id by `resolveName` (undefined: the edge is missing).
 */
export function outgoingEdges(node: KNode, resolveName: (ref: string) => string | undefined): Edge[] {
  const out: Edge[] = [];
  for (const r of node.relations) {
    const to = resolveName(r.target);
    out.push({
      from: node.id,
      to: to ?? r.target,
      type: r.type,
      weight: r.weight,
      via: 'frontmatter',
      ...(to ? {} : { missing: r.target }),
    });
  }
  for (const link of wikilinks(node.body)) {
    const t = resolveName(link);
    if (t === node.id) continue;
    const to = t ?? link;
    if (out.some((e) => e.to === to && e.type === 'relates_to')) continue;
    out.push({
      from: node.id,
      to,
      type: 'relates_to',
      weight: 1,
      via: 'wikilink',
      ...(t ? {} : { missing: link }),
    });
  }
  return out;
}

const dotId = (s: string) => JSON.stringify(s);

/** The graph in Graphviz DOT: one shape per node type, one style per relation. */
export function toDot(g: Graph, only?: Set<string>): string {
  const shapes: Record<NodeType, string> = {
    note: 'note',
    decision: 'box',
    guideline: 'folder',
    pattern: 'component',
    journal: 'tab',
    execution: 'octagon',
  };
  const styles: Record<RelationType, string> = {
    relates_to: 'style=dashed',
    depends_on: 'color="#1f77b4"',
    implements: 'color="#2ca02c"',
    extends: 'color="#9467bd"',
    supersedes: 'color="#d62728", style=bold',
    explains: 'color="#ff7f0e"',
  };
  const lines = ['digraph kogral {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];'];
  for (const { node } of g.nodes) {
    if (only && !only.has(node.id)) continue;
    const label = `${node.title}\n(${node.type}${node.status ? `, ${node.status}` : ''})`;
    lines.push(`  ${dotId(node.id)} [label=${JSON.stringify(label)}, shape=${shapes[node.type]}];`);
  }
  for (const e of g.edges()) {
    if (e.missing) continue;
    if (only && !(only.has(e.from) && only.has(e.to))) continue;
    const w = e.weight !== 1 ? `, penwidth=${(0.5 + e.weight * 1.5).toFixed(2)}` : '';
    lines.push(`  ${dotId(e.from)} -> ${dotId(e.to)} [label=${dotId(e.type)}, ${styles[e.type]}${w}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
