import { conflictError, notFoundError, usageError, validationError } from '@stratumiops/shared/errors';
import type { NodeLookup } from './catalog.js';
import { applyEdit, type EditOp, renameWikilinks } from './edit.js';
import { Graph } from './graph.js';
import { makeId } from './ids.js';
import { isProblem, wikilinks } from './markdown.js';
import {
  DEFAULT_STATUS,
  formatProblem,
  isNodeType,
  isRelationType,
  type KNode,
  NODE_TYPES,
  type NodeType,
  type Problem,
  RELATION_TYPES,
  type Relation,
  type RelationType,
} from './model.js';
import type { Store, StoredNode } from './store.js';
import { loadTemplate, renderTemplate } from './templates.js';

/** Commits changed files (git.auto_commit); implemented with simple-git in adapters/. */
export interface Committer {
  commit(paths: string[], message: string): Promise<void>;
}

export interface KogralOptions {
  author?: string;
  now?: () => Date;
  committer?: Committer;
  /** Called after each write with the files written and removed (e.g. to update the search index). */
  onWrite?: (written: string[], removed: string[]) => void;
}

export interface AddInput {
  type: NodeType;
  title: string;
  /** Template fields: body, context, decision, consequences, root_cause, ... */
  fields?: Record<string, string | undefined>;
  tags?: string[];
  aliases?: string[];
  status?: string;
  author?: string;
  metadata?: Record<string, unknown>;
  relations?: Relation[];
}

export interface WriteResult {
  node: KNode;
  path: string;
  /** Other nodes changed by the same operation (e.g. the superseded decision). */
  also: StoredNode[];
}

export interface DeleteResult {
  node: KNode;
  path: string;
  /** Nodes that still point at the deleted one (or did, before --force removed the links). */
  dangling: { from: string; via: 'frontmatter' | 'wikilink'; type: RelationType; removed: boolean }[];
}

export interface EditResult extends WriteResult {
  /** False when the edit left the body as it was (nothing written). */
  changed: boolean;
}

export interface MoveInput {
  /** The new title (the id stays: relations by id keep working). */
  title?: string;
  /** The new type: the file moves to that type's folder. */
  type?: NodeType;
}

export interface MoveResult extends WriteResult {
  from: { title: string; type: NodeType; path: string };
  /** Nodes whose [[wikilinks]] or relations were rewritten to keep pointing at the node. */
  relinked: { id: string; links: number }[];
}

/** What resolving a reference needs: the whole graph, or the index (catalog.ts). */
type Lookup = Pick<NodeLookup, 'resolve' | 'problems'>;

const validDay = (d: string) => /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`));

export function localDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The graph's operations: every write is atomic, under the graph lock, and optionally one commit. */
export class Kogral {
  private readonly now: () => Date;

  constructor(
    readonly store: Store,
    readonly opts: KogralOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  graph(): Graph {
    const { nodes, problems } = this.store.loadAll();
    return new Graph(nodes, problems);
  }

  /** A node by id (fast path through its file name), else by title, alias or id prefix. */
  get(ref: string, graph?: Lookup | (() => Lookup)): StoredNode {
    const direct = this.store.getById(ref);
    if (direct && isProblem(direct))
      throw validationError(`node '${ref}' cannot be read: ${formatProblem(direct)}`, {
        hint: 'fix the file by hand; kogral never overwrites a file it cannot read',
      });
    if (direct) return direct;
    const g = typeof graph === 'function' ? graph() : (graph ?? this.graph());
    const hit = g.resolve(ref);
    if (hit) return hit;
    const broken = g.problems.find((p) => p.path.includes(ref));
    if (broken)
      throw validationError(`node '${ref}' cannot be read: ${formatProblem(broken)}`, {
        hint: 'fix the file by hand; kogral never overwrites a file it cannot read',
      });
    throw notFoundError(`no node '${ref}'`, { hint: "find it with 'kogral list' or 'kogral search'" });
  }

  /** The whole graph, loaded on first use: lookups by id do not need it. */
  private lazyGraph(): () => Graph {
    let g: Graph | undefined;
    return () => {
      g ??= this.graph();
      return g;
    };
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  private async commit(paths: string[], message: string): Promise<void> {
    if (this.opts.committer) await this.opts.committer.commit(paths, message);
  }

  private written(paths: string[], removed: string[] = []): void {
    this.opts.onWrite?.(paths, removed);
  }

  /** Creates a node from its type's template. Same type and title as an existing node: conflict. */
  async add(input: AddInput): Promise<WriteResult> {
    const title = input.title.trim();
    if (!title) throw usageError('a node needs a title');
    return this.store.lock(async () => {
      let id = '';
      for (let n = 1; ; n++) {
        id = makeId(title, `${input.type}:${title.toLowerCase()}${n > 1 ? `:${n}` : ''}`);
        const existing = this.store.getById(id);
        if (!existing) break;
        if (isProblem(existing)) continue;
        if (existing.node.title.toLowerCase() === title.toLowerCase() && existing.node.type === input.type)
          throw conflictError(`a ${input.type} titled '${title}' already exists: ${id}`, {
            hint: `see it with 'kogral show ${id}', or choose another title`,
          });
      }
      const at = this.stamp();
      const fields = { ...input.fields, title, date: at.slice(0, 10) };
      const body = renderTemplate(loadTemplate(this.store.files, this.store.dir, input.type), fields);
      const node: KNode = {
        id,
        type: input.type,
        title,
        tags: input.tags ?? [],
        aliases: input.aliases ?? [],
        status: input.status ?? DEFAULT_STATUS[input.type],
        created: at,
        updated: at,
        relations: [],
        metadata: input.metadata ?? {},
        body,
      };
      const author = input.author ?? this.opts.author;
      if (author) node.author = author;
      const also: StoredNode[] = [];
      const g = this.lazyGraph();
      for (const r of input.relations ?? []) {
        const target = this.get(r.target, g);
        node.relations.push({ ...r, target: target.node.id });
        if (r.type === 'supersedes') also.push(this.supersede(target, id));
      }
      const path = this.store.write(node);
      for (const a of also) this.store.write(a.node, a.path);
      const paths = [path, ...also.map((a) => a.path)];
      this.written(paths);
      await this.commit(paths, `kogral: add ${input.type} '${title}' (${id})`);
      return { node, path, also };
    });
  }

  /** Appends an entry to the day's journal node, creating it on first use. */
  async journal(day: string | undefined, entry: string, tags: string[] = []): Promise<WriteResult> {
    const now = this.now();
    const date = day ?? localDay(now);
    if (!validDay(date)) throw usageError(`'${date}' is not a day`, { hint: 'write it as YYYY-MM-DD' });
    const text = entry.trim();
    if (!text) throw usageError('the journal entry is empty', { hint: 'pass --body' });
    const time = `${String(now.getHours()).padStart(2, '0')}:${String(now.getMinutes()).padStart(2, '0')}`;
    const section = `## ${time}\n\n${text}\n`;
    return this.store.lock(async () => {
      const id = makeId(date, `journal:${date}`);
      const existing = this.store.getById(id);
      if (existing && isProblem(existing))
        throw validationError(`the journal for ${date} cannot be read: ${formatProblem(existing)}`);
      const at = this.stamp();
      let node: KNode;
      let path: string | undefined;
      if (existing) {
        node = existing.node;
        path = existing.path;
        node.body = `${node.body.replace(/\s*$/, '')}\n\n${section}`;
        node.tags = [...new Set([...node.tags, ...tags])];
        node.updated = at;
      } else {
        node = {
          id,
          type: 'journal',
          title: date,
          tags,
          aliases: [],
          status: DEFAULT_STATUS.journal,
          created: at,
          updated: at,
          relations: [],
          metadata: { date },
          body: renderTemplate(loadTemplate(this.store.files, this.store.dir, 'journal'), {
            title: date,
            date,
            entry: section,
          }),
        };
        if (this.opts.author) node.author = this.opts.author;
      }
      const written = this.store.write(node, path);
      this.written([written]);
      await this.commit([written], `kogral: journal ${date} (${id})`);
      return { node, path: written, also: [] };
    });
  }

  /** Marks `target` superseded by `by`; returns the changed node (not yet written). */
  private supersede(target: StoredNode, by: string): StoredNode {
    const n = target.node;
    const list = Array.isArray(n.metadata.superseded_by) ? (n.metadata.superseded_by as unknown[]).map(String) : [];
    if (!list.includes(by)) list.push(by);
    n.metadata.superseded_by = list;
    if (n.status !== 'superseded') n.metadata.status_before_supersede = n.status;
    n.status = 'superseded';
    n.updated = this.stamp();
    return target;
  }

  /** Adds (or re-weights) a relation. `supersedes` marks the target superseded. */
  async link(
    fromRef: string,
    toRef: string,
    type: string = 'relates_to',
    weight = 1,
  ): Promise<WriteResult & { relation: Relation }> {
    if (!isRelationType(type))
      throw usageError(`unknown relation '${type}'`, { hint: `use one of ${RELATION_TYPES.join(', ')}` });
    if (!Number.isFinite(weight) || weight < 0 || weight > 1)
      throw usageError(`relation weight must be from 0 to 1, not ${weight}`);
    return this.store.lock(async () => {
      const g = this.lazyGraph();
      const from = this.get(fromRef, g);
      const to = this.get(toRef, g);
      if (from.node.id === to.node.id) throw usageError('a node cannot be linked to itself');
      let relation = from.node.relations.find((r) => r.type === type && r.target === to.node.id);
      if (relation) relation.weight = weight;
      else {
        relation = { type, target: to.node.id, weight };
        from.node.relations.push(relation);
      }
      from.node.updated = this.stamp();
      const also = type === 'supersedes' ? [this.supersede(to, from.node.id)] : [];
      const paths = [this.store.write(from.node, from.path), ...also.map((a) => this.store.write(a.node, a.path))];
      this.written(paths);
      await this.commit(paths, `kogral: link ${from.node.id} -[${type}]-> ${to.node.id}`);
      return { node: from.node, path: from.path, also, relation };
    });
  }

  /** Removes declared relations from one node to another (all types, or one). */
  async unlink(fromRef: string, toRef: string, type?: string): Promise<WriteResult & { removed: Relation[] }> {
    if (type !== undefined && !isRelationType(type))
      throw usageError(`unknown relation '${type}'`, { hint: `use one of ${RELATION_TYPES.join(', ')}` });
    return this.store.lock(async () => {
      const g = this.lazyGraph();
      const from = this.get(fromRef, g);
      const direct = this.store.getById(toRef);
      const to = direct ?? g().resolve(toRef);
      const toId = to && !isProblem(to) ? to.node.id : toRef;
      const removed = from.node.relations.filter((r) => r.target === toId && (!type || r.type === type));
      if (removed.length === 0) {
        const viaBody = wikilinks(from.node.body).some((l) => g().resolveName(l)?.node.id === toId || l === toRef);
        throw notFoundError(
          `${from.node.id} has no ${type ?? ''}${type ? ' ' : ''}relation to ${toId}${viaBody ? ' in its frontmatter' : ''}`,
          viaBody ? { hint: `the link is a [[wikilink]] in the body of ${from.path}: edit the text to remove it` } : {},
        );
      }
      from.node.relations = from.node.relations.filter((r) => !removed.includes(r));
      from.node.updated = this.stamp();
      const also: StoredNode[] = [];
      if (removed.some((r) => r.type === 'supersedes') && to && !isProblem(to)) {
        const n = to.node;
        const list = (Array.isArray(n.metadata.superseded_by) ? (n.metadata.superseded_by as unknown[]) : [])
          .map(String)
          .filter((x) => x !== from.node.id);
        if (list.length > 0) n.metadata.superseded_by = list;
        else {
          delete n.metadata.superseded_by;
          if (n.status === 'superseded') n.status = String(n.metadata.status_before_supersede ?? 'accepted');
          delete n.metadata.status_before_supersede;
        }
        n.updated = this.stamp();
        also.push(to);
      }
      const paths = [this.store.write(from.node, from.path), ...also.map((a) => this.store.write(a.node, a.path))];
      this.written(paths);
      await this.commit(paths, `kogral: unlink ${from.node.id} -> ${toId}`);
      return { node: from.node, path: from.path, also, removed };
    });
  }

  /** Deletes a node; reports links left dangling, and with `force` removes them from the other nodes. */
  async remove(ref: string, force = false): Promise<DeleteResult> {
    return this.store.lock(async () => {
      const g = this.graph();
      const target = this.get(ref, g);
      this.owned(target, 'delete');
      const id = target.node.id;
      const inbound = g.backlinks(id);
      const dangling: DeleteResult['dangling'] = inbound.map((e) => ({
        from: e.from,
        via: e.via,
        type: e.type,
        removed: force,
      }));
      const changed: StoredNode[] = [];
      if (force) {
        const names = new Set([
          id,
          target.node.title.toLowerCase(),
          ...target.node.aliases.map((a) => a.toLowerCase()),
        ]);
        for (const from of new Set(inbound.map((e) => e.from))) {
          const s = g.byId.get(from);
          if (!s || this.store.isForeign(s.path)) continue;
          s.node.relations = s.node.relations.filter((r) => g.resolveName(r.target)?.node.id !== id);
          s.node.body = s.node.body.replace(/(!?)\[\[([^[\]\n]+?)\]\]/g, (all, _bang: string, inner: string) => {
            const [targetPart, label] = inner.split('|');
            const t = (targetPart ?? '').split('#')[0]?.trim() ?? '';
            const hit = g.resolveName(t)?.node.id === id || names.has(t.toLowerCase());
            return hit ? (label ?? t).trim() : all;
          });
          s.node.updated = this.stamp();
          changed.push(s);
        }
      }
      this.store.remove(target.path);
      const paths = changed.map((c) => this.store.write(c.node, c.path));
      this.written(paths, [target.path]);
      await this.commit([target.path, ...paths], `kogral: delete ${target.node.type} '${target.node.title}' (${id})`);
      return { node: target.node, path: target.path, dangling };
    });
  }

  /** Refuses writes to files kogral does not own (watched folders are read-only). */
  private owned(s: StoredNode, what: string): void {
    if (this.store.isForeign(s.path))
      throw validationError(
        `cannot ${what} ${s.node.id}: ${s.path} is in a watched folder, which kogral never writes`,
        {
          hint: 'edit the file itself; the index follows',
        },
      );
  }

  /**
   * Edits a node's body (append, prepend, find-replace, replace a section), atomically under the
   * graph lock. `ifUpdated`: refuse (conflict) when the node changed since the caller read it.
   */
  async edit(ref: string, op: EditOp, opts: { ifUpdated?: string } = {}): Promise<EditResult> {
    return this.store.lock(async () => {
      const target = this.get(ref, this.lazyGraph());
      this.owned(target, 'edit');
      const n = target.node;
      if (opts.ifUpdated !== undefined && opts.ifUpdated !== n.updated)
        throw conflictError(`${n.id} changed since ${opts.ifUpdated} (now updated ${n.updated}): nothing edited`, {
          hint: 'read it again and redo the edit',
        });
      const body = applyEdit(n.body, op);
      if (body === n.body) return { node: n, path: target.path, also: [], changed: false };
      const node: KNode = { ...n, body, updated: this.stamp() };
      this.store.serialize(node); // refuses an oversized node before anything is written
      const path = this.store.write(node, target.path);
      this.written([path]);
      await this.commit([path], `kogral: edit ${node.type} '${node.title}' (${op.op}, ${node.id})`);
      return { node, path, also: [], changed: true };
    });
  }

  /**
   * Renames a node (new title) and/or moves it to another type's folder. Its id stays, so
   * relations keep working; [[wikilinks]] naming its old title are rewritten to the new one.
   */
  async move(ref: string, input: MoveInput): Promise<MoveResult> {
    const title = input.title?.trim();
    if (input.title !== undefined && !title) throw usageError('the new title is empty');
    if (input.type !== undefined && !isNodeType(input.type))
      throw usageError(`unknown type '${input.type}'`, { hint: `use one of ${NODE_TYPES.join(', ')}` });
    if (title === undefined && input.type === undefined)
      throw usageError('nothing to move: give a new title or a type', {
        hint: "e.g. kogral move <id> 'New title' or --type decision",
      });
    return this.store.lock(async () => {
      const g = this.graph();
      const target = this.get(ref, g);
      this.owned(target, 'move');
      const old = target.node;
      const newTitle = title ?? old.title;
      const newType = input.type ?? old.type;
      if (newTitle === old.title && newType === old.type)
        throw usageError(`${old.id} is already the ${old.type} '${old.title}'`);
      if (newTitle.toLowerCase() !== old.title.toLowerCase()) {
        const other = g.resolveName(newTitle);
        if (other && other.node.id !== old.id)
          throw conflictError(`another node is already called '${newTitle}': ${other.node.id}`, {
            hint: 'choose another title, so that [[links]] stay unambiguous',
          });
      }
      const newPath = newType === old.type ? target.path : this.store.fileFor(newType, old.id);
      if (newPath !== target.path && this.store.exists(newPath))
        throw conflictError(`${this.store.rel(newPath)} already exists: nothing moved`);
      const at = this.stamp();
      let body = old.body;
      if (newTitle !== old.title) {
        // The title heading follows the title.
        body = body.replace(/^(\s*#[ \t]+)([^\n]*)/, (all, h: string, t: string) =>
          t.trim() === old.title ? `${h}${newTitle}` : all,
        );
      }
      const node: KNode = { ...old, title: newTitle, type: newType, body, updated: at };
      this.store.serialize(node); // refuses an oversized node before anything is written
      const relinked: MoveResult['relinked'] = [];
      const changed: StoredNode[] = [];
      if (newTitle !== old.title) {
        for (const from of new Set(g.backlinks(old.id).map((e) => e.from))) {
          const s = g.byId.get(from);
          if (!s || this.store.isForeign(s.path)) continue;
          const r = renameWikilinks(s.node.body, old.title, newTitle);
          let links = r.count;
          // Relations that named the node by title or alias now name it by id.
          const relations = s.node.relations.map((rel) => {
            if (rel.target === old.id || g.resolveName(rel.target)?.node.id !== old.id) return rel;
            links++;
            return { ...rel, target: old.id };
          });
          if (links === 0) continue;
          changed.push({ node: { ...s.node, body: r.body, relations, updated: at }, path: s.path });
          relinked.push({ id: s.node.id, links });
        }
      }
      const path = this.store.write(node, newPath);
      if (newPath !== target.path) this.store.remove(target.path);
      const paths = [path, ...changed.map((c) => this.store.write(c.node, c.path))];
      const removed = newPath !== target.path ? [target.path] : [];
      this.written(paths, removed);
      await this.commit(
        [...paths, ...removed],
        `kogral: move ${old.type} '${old.title}' to ${newType} '${newTitle}' (${old.id})`,
      );
      return {
        node,
        path,
        also: changed,
        from: { title: old.title, type: old.type, path: target.path },
        relinked,
      };
    });
  }

  /** Writes whole nodes (import); under the caller's lock. */
  putAll(nodes: { node: KNode; path?: string }[]): string[] {
    return nodes.map((n) => this.store.write(n.node, n.path));
  }

  /** Reports written (and removed) files to the index and commits them: for writes made with putAll. */
  async commitPaths(paths: string[], message: string, removed: string[] = []): Promise<void> {
    this.written(
      paths.filter((p) => !removed.includes(p)),
      removed,
    );
    await this.commit(paths, message);
  }
}

export type { Problem };
