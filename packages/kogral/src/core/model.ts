/** The node model: six node types, six relation types, frontmatter fields. */

export const NODE_TYPES = ['note', 'decision', 'guideline', 'pattern', 'journal', 'execution'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export const RELATION_TYPES = ['relates_to', 'depends_on', 'implements', 'extends', 'supersedes', 'explains'] as const;
export type RelationType = (typeof RELATION_TYPES)[number];

export const DECISION_STATUSES = ['proposed', 'accepted', 'superseded', 'deprecated', 'rejected'] as const;

/** Status a new node gets when none is given. */
export const DEFAULT_STATUS: Record<NodeType, string> = {
  note: 'active',
  decision: 'proposed',
  guideline: 'active',
  pattern: 'active',
  journal: 'active',
  execution: 'resolved',
};

/** The folder of a type under .kogral/: note → notes. */
export const typeDir = (t: NodeType): string => `${t}s`;

export const isNodeType = (v: unknown): v is NodeType => typeof v === 'string' && NODE_TYPES.includes(v as NodeType);
export const isRelationType = (v: unknown): v is RelationType =>
  typeof v === 'string' && RELATION_TYPES.includes(v as RelationType);

export interface Relation {
  type: RelationType;
  /** The target node's id (or, for a dangling link, whatever the link named). */
  target: string;
  /** Strength, 0 to 1. */
  weight: number;
}

/** Frontmatter keys with a meaning; everything else is free metadata, kept as it is. */
export const KNOWN_KEYS = [
  'id',
  'type',
  'title',
  'tags',
  'aliases',
  'status',
  'created',
  'updated',
  'author',
  'relations',
  'source',
  'source_root',
] as const;

export interface KNode {
  id: string;
  type: NodeType;
  title: string;
  tags: string[];
  aliases: string[];
  status: string;
  created: string;
  updated: string;
  author?: string;
  relations: Relation[];
  /** Where an imported node came from: its path relative to the import root. */
  source?: string;
  /** The import root's name (folder name), so that two imports with the same relative paths don't collide. */
  source_root?: string;
  /** Free metadata: every other frontmatter key, kept in order. */
  metadata: Record<string, unknown>;
  /** The markdown body after the frontmatter. */
  body: string;
}

/** A node file that could not be read as a node: reported with its path and line, never overwritten. */
export interface Problem {
  path: string;
  line?: number;
  message: string;
}

export const formatProblem = (p: Problem): string => `${p.path}${p.line ? `:${p.line}` : ''}: ${p.message}`;
