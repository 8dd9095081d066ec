import type { KNode } from './model.js';
import { synonymsFor } from './search/engine.js';
import { queryTerms, stem, words } from './search/text.js';
import type { StoredNode } from './store.js';

export interface GuidelineHit {
  id: string;
  title: string;
  status: string;
  tags: string[];
  /** Which graph it came from: this project's, or the org graph it inherits from. */
  graph: 'project' | 'org';
  path: string;
  score: number;
  /** On the same id, the project's guideline wins: this says it replaced the org's. */
  overrides?: 'org';
  summary: string;
  body: string;
}

/** How well a guideline matches a topic: topic words (and ops synonyms) in title, tags and body. */
export function topicScore(n: KNode, topic: string): number {
  const terms = queryTerms(topic).map(stem);
  if (terms.length === 0) return 1;
  const syn = synonymsFor(topic).flatMap((s) => words(s).map(stem));
  const title = new Set(words(n.title).map(stem));
  const tags = new Set(n.tags.flatMap((t) => words(t).map(stem)));
  const bodyCounts = new Map<string, number>();
  for (const w of words(n.body)) {
    const s = stem(w);
    bodyCounts.set(s, (bodyCounts.get(s) ?? 0) + 1);
  }
  const one = (t: string, weight: number) =>
    weight * ((title.has(t) ? 3 : 0) + (tags.has(t) ? 2 : 0) + Math.min(1, Math.log1p(bodyCounts.get(t) ?? 0)));
  let s = 0;
  for (const t of terms) s += one(t, 1);
  for (const t of syn) if (!terms.includes(t)) s += one(t, 0.3);
  return Math.round(s * 100) / 100;
}

const summary = (body: string) =>
  body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .join(' ')
    .slice(0, 240);

/**
 * Guidelines for a topic from the project graph and (optionally) the org graph: the project's
 * version wins on the same id; every result says which graph it came from. Best match first.
 */
export function mergeGuidelines(
  project: StoredNode[],
  org: StoredNode[],
  topic: string,
  opts: { includeShared?: boolean; limit?: number } = {},
): GuidelineHit[] {
  const out = new Map<string, GuidelineHit>();
  const projectIds = new Set(project.filter((s) => s.node.type === 'guideline').map((s) => s.node.id));
  const orgIds = new Set(org.filter((s) => s.node.type === 'guideline').map((s) => s.node.id));
  const add = (s: StoredNode, graph: 'project' | 'org') => {
    if (s.node.type !== 'guideline') return;
    // The project's version of a guideline hides the org's, whether or not it matches the topic.
    if (graph === 'org' && projectIds.has(s.node.id)) return;
    const score = topicScore(s.node, topic);
    if (score <= 0) return;
    out.set(s.node.id, {
      id: s.node.id,
      title: s.node.title,
      status: s.node.status,
      tags: s.node.tags,
      graph,
      path: s.path,
      score,
      ...(graph === 'project' && orgIds.has(s.node.id) && opts.includeShared !== false
        ? { overrides: 'org' as const }
        : {}),
      summary: summary(s.node.body),
      body: s.node.body,
    });
  };
  if (opts.includeShared !== false) for (const s of org) add(s, 'org');
  for (const s of project) add(s, 'project');
  const list = [...out.values()].sort((a, b) => b.score - a.score || a.title.localeCompare(b.title));
  return opts.limit ? list.slice(0, opts.limit) : list;
}
