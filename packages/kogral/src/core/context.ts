/**
 * What an assistant asks a graph before it writes: what changed lately (recent activity) and
 * what surrounds one node (its relations, a few hops deep, ranked). Pure functions over a Graph.
 */
import { usageError } from '@stratumiops/shared/errors';
import type { Graph } from './graph.js';
import type { KNode, NodeType, RelationType } from './model.js';

/**
 * A point in time from an ISO date/time, or a span back from now: `90m`, `24h`, `7d`, `2w`
 * (also `7 days`, `2 weeks`).
 */
export function parseSince(s: string, now = new Date()): Date {
  const m = /^\s*(\d+)\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)\s*$/i.exec(s);
  if (m) {
    const unit = (m[2] as string).toLowerCase();
    const ms =
      unit.startsWith('mi') || unit === 'm'
        ? 60e3
        : unit.startsWith('h')
          ? 3600e3
          : unit.startsWith('d')
            ? 86400e3
            : 7 * 86400e3;
    return new Date(now.getTime() - Number(m[1]) * ms);
  }
  const t = Date.parse(s);
  if (Number.isNaN(t))
    throw usageError(`'${s}' is neither a date nor a span`, {
      hint: 'e.g. 2026-11-01, 2026-11-01T09:00:00Z, 7d, 24h, 2w',
    });
  return new Date(t);
}

const time = (n: KNode) => {
  const t = Date.parse(n.updated || n.created);
  return Number.isNaN(t) ? 0 : t;
};

export interface Window {
  since?: Date;
  until?: Date;
}

const inWindow = (n: KNode, w: Window) => {
  const t = time(n);
  return (!w.since || t >= w.since.getTime()) && (!w.until || t <= w.until.getTime());
};

export interface ActivityItem {
  id: string;
  type: NodeType;
  title: string;
  status: string;
  created: string;
  updated: string;
  /** `created` when the node is new in the window, `updated` when it was only changed. */
  change: 'created' | 'updated';
  path: string;
}

/** Nodes created or changed in a window, newest first. */
export function recentActivity(g: Graph, opts: Window & { types?: NodeType[]; limit?: number } = {}): ActivityItem[] {
  const since = opts.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  return g.nodes
    .filter((s) => (!opts.types?.length || opts.types.includes(s.node.type)) && inWindow(s.node, opts))
    .sort((a, b) => time(b.node) - time(a.node) || (a.node.id < b.node.id ? -1 : 1))
    .slice(0, opts.limit ?? 20)
    .map((s) => {
      const created = Date.parse(s.node.created);
      return {
        id: s.node.id,
        type: s.node.type,
        title: s.node.title,
        status: s.node.status,
        created: s.node.created,
        updated: s.node.updated,
        change: !Number.isNaN(created) && created >= since ? 'created' : 'updated',
        path: s.path,
      };
    });
}

export interface ContextItem {
  id: string;
  type: NodeType;
  title: string;
  status: string;
  updated: string;
  /** Hops from the root. */
  depth: number;
  /** The node it was reached from, the relation, and which way it points. */
  from: string;
  relation: RelationType;
  direction: 'out' | 'in';
  /** Product of the relation weights on the way, divided by the depth: higher is closer. */
  score: number;
  /** The start of the body, for a quick read without another call. */
  summary: string;
}

const summary = (body: string, max = 240) => {
  const s = body
    .replace(/^#+\s.*$/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/**
 * The nodes around `rootId`, following relations (declared and [[wikilinks]]) both ways up to
 * `depth` hops. Nodes outside the time window are passed through but not returned. Ranked by
 * score, then recency.
 */
export function buildContext(
  g: Graph,
  rootId: string,
  opts: Window & { depth?: number; limit?: number } = {},
): ContextItem[] {
  const depth = opts.depth ?? 2;
  const best = new Map<string, ContextItem>([]);
  const adjacent = new Map<string, { to: string; relation: RelationType; weight: number; direction: 'out' | 'in' }[]>();
  for (const e of g.edges()) {
    if (e.missing || e.from === e.to) continue;
    const add = (k: string, v: { to: string; relation: RelationType; weight: number; direction: 'out' | 'in' }) => {
      const list = adjacent.get(k) ?? [];
      list.push(v);
      adjacent.set(k, list);
    };
    add(e.from, { to: e.to, relation: e.type, weight: e.weight, direction: 'out' });
    add(e.to, { to: e.from, relation: e.type, weight: e.weight, direction: 'in' });
  }
  let frontier = new Map<string, number>([[rootId, 1]]); // id → path weight
  const seen = new Set([rootId]);
  for (let d = 1; d <= depth && frontier.size > 0; d++) {
    const next = new Map<string, number>();
    for (const [id, pathWeight] of frontier) {
      for (const a of adjacent.get(id) ?? []) {
        if (seen.has(a.to)) continue;
        const w = pathWeight * (a.weight > 0 ? a.weight : 0.1);
        if ((next.get(a.to) ?? -1) >= w) continue;
        next.set(a.to, w);
        const s = g.byId.get(a.to);
        if (!s) continue;
        best.set(a.to, {
          id: s.node.id,
          type: s.node.type,
          title: s.node.title,
          status: s.node.status,
          updated: s.node.updated,
          depth: d,
          from: id,
          relation: a.relation,
          direction: a.direction,
          score: Math.round((w / d) * 1000) / 1000,
          summary: summary(s.node.body),
        });
      }
    }
    for (const id of next.keys()) seen.add(id);
    frontier = next;
  }
  return [...best.values()]
    .filter((c) => inWindow(g.byId.get(c.id)?.node as KNode, opts))
    .sort(
      (a, b) =>
        b.score - a.score ||
        time(g.byId.get(b.id)?.node as KNode) - time(g.byId.get(a.id)?.node as KNode) ||
        (a.id < b.id ? -1 : 1),
    )
    .slice(0, opts.limit ?? 20);
}
