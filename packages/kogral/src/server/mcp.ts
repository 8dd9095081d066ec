/**
 * The MCP server: kogral's tools and nodes over the Model Context Protocol, stdio by
 * default. Thin: every tool validates its arguments with zod, calls the core through App, and
 * turns any error into an `isError` result; nothing a client sends can crash the server.
 * stdout belongs to JSON-RPC: nothing else is ever written there.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { guard, READ_ONLY, serveStdio as serveMcp, type ToolResult, toolResult, WRITES } from '@stratumiops/shared/mcp';
import * as z from '@stratumiops/shared/zod';
import { buildContext, parseSince, recentActivity } from '../core/context.js';
import { EDIT_OPERATIONS, type EditOp } from '../core/edit.js';
import { executionFields } from '../core/execution.js';
import { nodeObject, selectNodes, toJson, toYaml } from '../core/exporters.js';
import { mergeGuidelines } from '../core/guidelines.js';
import { serializeNode } from '../core/markdown.js';
import { DECISION_STATUSES, NODE_TYPES, RELATION_TYPES } from '../core/model.js';
import { markSnippet } from '../core/search/types.js';
import type { App } from '../runtime.js';
import { GraphSet } from './graphs.js';
import { adrPrompt, GUIDE, postmortemPrompt, runbookPrompt } from './guide.js';

/** A comma-separated string or a list: the CLI passes `--tags "a,b"`, MCP clients pass arrays. */
const listArg = (what: string) =>
  z
    .union([z.array(z.string()), z.string()])
    .optional()
    .describe(`${what}: a list, or one comma-separated string`);
const asList = (v: string[] | string | undefined): string[] => [
  ...new Set((Array.isArray(v) ? v : (v ?? '').split(',')).map((s) => s.trim().replace(/^#/, '')).filter(Boolean)),
];

const graphArg = z
  .string()
  .min(1)
  .optional()
  .describe('Which graph (see list_graphs); default: the current one (see switch)');
const dateArg = (what: string) =>
  z.string().min(1).optional().describe(`${what}: an ISO date/time, or a span back from now such as 24h, 7d, 2w`);

export const schemas = {
  search: z.strictObject({
    graph: graphArg,
    query: z.string().min(1).describe('What to look for: keywords or a natural-language question'),
    node_type: z.enum(NODE_TYPES).optional().describe('Only nodes of this type'),
    limit: z.number().int().min(1).max(100).default(10).describe('At most this many results (1-100, default 10)'),
    semantic: z
      .boolean()
      .default(true)
      .describe('Hybrid ranking by meaning as well as words (default true); false for plain BM25 text search'),
    tags: z.array(z.string()).optional().describe('Only nodes with all of these tags'),
  }),
  get_node: z.strictObject({
    graph: graphArg,
    id: z.string().min(1).describe('Node id (as returned by search), or its exact title or an alias'),
  }),
  add_note: z.strictObject({
    graph: graphArg,
    title: z.string().min(1).describe('Title of the note'),
    content: z.string().describe('Markdown body; [[Other note]] links become relates_to relations'),
    tags: listArg('Tags'),
  }),
  add_decision: z.strictObject({
    graph: graphArg,
    title: z.string().min(1).describe('Title of the decision, e.g. "Choose Cilium over Calico for CNI"'),
    context: z.string().describe('Why a decision is needed: the forces and the problem'),
    decision: z.string().describe('What was decided'),
    consequences: z.string().describe('What follows from it, good and bad'),
    status: z.enum(DECISION_STATUSES).default('proposed').describe('Status of the decision (default proposed)'),
    tags: listArg('Tags'),
    supersedes: z.string().optional().describe('Id of an older decision this one replaces; it becomes superseded'),
  }),
  add_execution: z.strictObject({
    graph: graphArg,
    title: z.string().min(1).describe('Title, e.g. "2026-01-22 PostgreSQL connection pool exhaustion"'),
    context: z.string().optional().describe('What happened and what was affected'),
    root_cause: z.string().describe('Why it happened'),
    resolution: z.string().describe('How it was resolved'),
    action_items: listArg('Follow-up actions'),
    tags: listArg('Tags, e.g. database,incident'),
    started: z.string().optional().describe('When it started (ISO 8601)'),
    detected: z.string().optional().describe('When it was detected (ISO 8601)'),
    resolved: z.string().optional().describe('When it was resolved (ISO 8601)'),
    related_resources: listArg('Links to dashboards, tickets, runbooks'),
  }),
  link: z.strictObject({
    graph: graphArg,
    source_id: z.string().min(1).describe('Id of the node the relation starts from'),
    target_id: z.string().min(1).describe('Id of the node it points to'),
    relation: z
      .enum(RELATION_TYPES)
      .default('relates_to')
      .describe('Relation type; supersedes marks the target superseded'),
    weight: z.number().min(0).max(1).default(1).describe('Strength of the relation, 0 to 1 (default 1)'),
  }),
  get_guidelines: z.strictObject({
    graph: graphArg,
    topic: z.string().describe('Topic, e.g. "kubernetes deployment"; empty for all guidelines'),
    include_shared: z
      .boolean()
      .default(true)
      .describe("Include the org graph's guidelines (the project's version wins on the same id)"),
    limit: z.number().int().min(1).max(100).optional().describe('At most this many'),
  }),
  edit_node: z.strictObject({
    graph: graphArg,
    id: z.string().min(1).describe('Node id (or its exact title or an alias)'),
    operation: z
      .enum(EDIT_OPERATIONS)
      .describe('append / prepend content; find_replace find_text with content; replace_section section with content'),
    content: z.string().describe('The markdown to add, the replacement text, or the new section content'),
    find_text: z.string().optional().describe('find_replace: the exact text to replace'),
    section: z.string().optional().describe('replace_section: the heading, e.g. "Root Cause"'),
    expected_replacements: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('find_replace: how many times find_text must occur (default 1); otherwise nothing changes'),
    if_updated: z
      .string()
      .optional()
      .describe(
        "Refuse unless the node's updated time is still this (from get_node), so concurrent edits are not lost",
      ),
  }),
  delete_node: z.strictObject({
    graph: graphArg,
    id: z.string().min(1).describe('Node id (or its exact title or an alias)'),
    force: z
      .boolean()
      .default(false)
      .describe('Also remove the links other nodes have to it; without it they are reported as dangling'),
  }),
  move_node: z.strictObject({
    graph: graphArg,
    id: z.string().min(1).describe('Node id (or its exact title or an alias)'),
    new_title: z.string().min(1).optional().describe('Rename: [[links]] to the old title are rewritten'),
    node_type: z.enum(NODE_TYPES).optional().describe("Move to this type's folder"),
  }),
  list_graphs: z.strictObject({}),
  switch: z.strictObject({
    graph: z.string().min(1).describe('The graph the following calls use by default (a name from list_graphs)'),
  }),
  recent_activity: z.strictObject({
    graph: graphArg,
    since: dateArg('Only nodes created or changed since then (default 7d)'),
    until: dateArg('Only up to then'),
    types: z.array(z.enum(NODE_TYPES)).optional().describe('Only nodes of these types, e.g. ["execution","decision"]'),
    limit: z.number().int().min(1).max(200).default(20).describe('At most this many (1-200, default 20)'),
  }),
  build_context: z.strictObject({
    graph: graphArg,
    id: z.string().min(1).describe('The node to start from: id, exact title or alias'),
    depth: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(2)
      .describe('How many relation hops to follow, both ways (1-5, default 2)'),
    since: dateArg('Only related nodes created or changed since then'),
    until: dateArg('Only related nodes up to then'),
    limit: z.number().int().min(1).max(100).default(20).describe('At most this many related nodes (default 20)'),
  }),
  export: z.strictObject({
    graph: graphArg,
    format: z.enum(['markdown', 'json', 'yaml']).describe('markdown: node files; json/yaml: one document'),
    filter: z
      .strictObject({
        type: z.enum(NODE_TYPES).optional(),
        tags: z.array(z.string()).optional(),
        status: z.string().optional(),
        ids: z.array(z.string()).optional(),
      })
      .optional()
      .describe('Only nodes matching all of these'),
  }),
};

const ok = toolResult;

export function createMcpServer(home: App, version: string, graphs = new GraphSet(home)): McpServer {
  let current = graphs.homeName; // per session: switch changes it
  const onGraph = <A extends { graph?: string | undefined }>(fn: (a: A, app: App) => Promise<ToolResult>) =>
    guard(async (a: A) => fn(a, graphs.get(a.graph ?? current)));
  const server = new McpServer(
    { name: 'kogral', version },
    {
      instructions:
        "Kogral is this team's knowledge graph: runbooks, ADRs (decisions), guidelines, patterns, journals and postmortems (executions). Search it before answering operational questions; record new decisions and incidents with the add_* tools.",
    },
  );
  const ro = READ_ONLY;
  const write = WRITES;

  server.registerTool(
    'search',
    {
      title: 'Search the knowledge graph',
      description:
        'Search notes, decisions, guidelines, patterns, journals and executions by text or meaning. Returns ids, titles, types, sources and highlighted snippets, best first; use get_node for a full node.',
      inputSchema: schemas.search,
      annotations: ro,
    },
    onGraph(async (a: z.infer<typeof schemas.search>, app) => {
      const engine = await app.engine(a.semantic);
      const r = await engine.search(a.query, {
        limit: a.limit,
        semantic: a.semantic,
        ...(a.node_type ? { type: a.node_type } : {}),
        ...(a.tags ? { tags: a.tags } : {}),
      });
      const hits = r.hits.map((h) => ({ ...h, snippet: markSnippet(h.snippet, (t) => `**${t}**`) }));
      const problems = (await app.index(false)).duplicateProblems().map((p) => ({
        path: app.store.rel(p.path),
        message: p.message,
      }));
      const text =
        hits.length === 0
          ? `no matches for "${a.query}"`
          : hits
              .map(
                (h, i) =>
                  `${i + 1}. ${h.title} (id: ${h.id}, ${h.type}, ${h.status})${h.source ? ` source: ${h.source}` : ''}\n   ${h.snippet.replace(/\s+/g, ' ')}`,
              )
              .join('\n');
      return ok(text + problems.map((p) => `\nwarning: ${p.path}: ${p.message}`).join(''), {
        query: a.query,
        mode: r.mode,
        count: hits.length,
        hits,
        ...(problems.length ? { problems } : {}),
      });
    }),
  );

  server.registerTool(
    'get_node',
    {
      title: 'Get a node',
      description: 'A node with its frontmatter, markdown body, relations (with [[wikilinks]]) and backlinks.',
      inputSchema: schemas.get_node,
      annotations: ro,
    },
    onGraph(async (a: z.infer<typeof schemas.get_node>, app) => {
      const g = await app.currentGraph();
      const s = app.kg.get(a.id, g);
      const problems = g.problems
        .filter((p) => p.message.startsWith(`duplicate id '${s.node.id}'`))
        .map((p) => ({ path: app.store.rel(p.path), message: p.message }));
      const doc = {
        ...nodeObject(s.node),
        path: s.path,
        links: g.outgoing(s.node),
        backlinks: g.backlinks(s.node.id),
        ...(problems.length ? { problems } : {}),
      };
      return ok(
        serializeNode(s.node) + problems.map((p) => `\n<!-- warning: ${p.path}: ${p.message} -->`).join(''),
        doc,
      );
    }),
  );

  const created = (r: {
    node: { id: string; type: string; title: string; status: string };
    path: string;
    also: { node: { id: string; status: string } }[];
  }) =>
    ok(`created ${r.node.type} ${r.node.id}${r.also.map((x) => `; ${x.node.id} is now ${x.node.status}`).join('')}`, {
      id: r.node.id,
      type: r.node.type,
      title: r.node.title,
      status: r.node.status,
      path: r.path,
      also: r.also.map((x) => ({ id: x.node.id, status: x.node.status })),
    });

  server.registerTool(
    'add_note',
    {
      title: 'Add a note',
      description: 'Add a note (markdown) to the knowledge graph. Fails if a note with the same title exists.',
      inputSchema: schemas.add_note,
      annotations: write,
    },
    onGraph(async (a: z.infer<typeof schemas.add_note>, app) =>
      created(await app.kg.add({ type: 'note', title: a.title, fields: { body: a.content }, tags: asList(a.tags) })),
    ),
  );

  server.registerTool(
    'add_decision',
    {
      title: 'Record a decision (ADR)',
      description:
        'Record an architectural decision: context, decision, consequences. With supersedes, the older decision is marked superseded.',
      inputSchema: schemas.add_decision,
      annotations: write,
    },
    onGraph(async (a: z.infer<typeof schemas.add_decision>, app) =>
      created(
        await app.kg.add({
          type: 'decision',
          title: a.title,
          status: a.status,
          tags: asList(a.tags),
          fields: { context: a.context, decision: a.decision, consequences: a.consequences },
          ...(a.supersedes ? { relations: [{ type: 'supersedes' as const, target: a.supersedes, weight: 1 }] } : {}),
        }),
      ),
    ),
  );

  server.registerTool(
    'add_execution',
    {
      title: 'Record an incident or postmortem',
      description:
        'Record an execution: an incident, postmortem or agent run, with timeline, root cause, resolution and action items.',
      inputSchema: schemas.add_execution,
      annotations: write,
    },
    onGraph(async (a: z.infer<typeof schemas.add_execution>, app) => {
      for (const k of ['started', 'detected', 'resolved'] as const) {
        const v = a[k];
        if (v !== undefined && Number.isNaN(Date.parse(v)))
          throw new StratumError('usage', `${k} '${v}' is not a date/time`, { hint: 'use ISO 8601' });
      }
      return created(
        await app.kg.add({
          type: 'execution',
          title: a.title,
          tags: asList(a.tags),
          fields: executionFields({
            context: a.context,
            root_cause: a.root_cause,
            resolution: a.resolution,
            action_items: asList(a.action_items),
            related_resources: asList(a.related_resources),
            started: a.started,
            detected: a.detected,
            resolved: a.resolved,
          }),
        }),
      );
    }),
  );

  server.registerTool(
    'link',
    {
      title: 'Link two nodes',
      description: `Create a relation between nodes: ${RELATION_TYPES.join(', ')}. Linking again changes the weight.`,
      inputSchema: schemas.link,
      annotations: { ...write, idempotentHint: true },
    },
    onGraph(async (a: z.infer<typeof schemas.link>, app) => {
      const r = await app.kg.link(a.source_id, a.target_id, a.relation, a.weight);
      return ok(
        `${r.node.id} -[${r.relation.type}]-> ${r.relation.target}${r.also.map((x) => `; ${x.node.id} is now ${x.node.status}`).join('')}`,
        { source_id: r.node.id, target_id: r.relation.target, relation: r.relation.type, weight: r.relation.weight },
      );
    }),
  );

  server.registerTool(
    'edit_node',
    {
      title: 'Edit a node',
      description:
        'Edit an existing node in place: append or prepend markdown, replace exact text (find_replace), or replace the content under a heading (replace_section). An edit that cannot apply exactly changes nothing and says why.',
      inputSchema: schemas.edit_node,
      annotations: write,
    },
    onGraph(async (a: z.infer<typeof schemas.edit_node>, app) => {
      let op: EditOp;
      if (a.operation === 'find_replace') {
        if (a.find_text === undefined) throw usageError('find_replace needs find_text');
        op = {
          op: 'find_replace',
          find: a.find_text,
          replace: a.content,
          ...(a.expected_replacements ? { expected: a.expected_replacements } : {}),
        };
      } else if (a.operation === 'replace_section') {
        if (a.section === undefined) throw usageError('replace_section needs section');
        op = { op: 'replace_section', section: a.section, text: a.content };
      } else op = { op: a.operation, text: a.content };
      if (a.operation !== 'find_replace' && (a.find_text !== undefined || a.expected_replacements !== undefined))
        throw usageError('find_text and expected_replacements go with operation find_replace');
      if (a.operation !== 'replace_section' && a.section !== undefined)
        throw usageError('section goes with operation replace_section');
      const r = await app.kg.edit(a.id, op, a.if_updated ? { ifUpdated: a.if_updated } : {});
      return ok(r.changed ? `edited ${r.node.id} (${a.operation})` : `${r.node.id} unchanged`, {
        id: r.node.id,
        operation: a.operation,
        changed: r.changed,
        updated: r.node.updated,
        path: r.path,
      });
    }),
  );

  server.registerTool(
    'delete_node',
    {
      title: 'Delete a node',
      description:
        'Delete a node. Nodes that link to it are reported; with force their relations to it are removed and their [[wikilinks]] become plain text.',
      inputSchema: schemas.delete_node,
      annotations: { ...write, destructiveHint: true },
    },
    onGraph(async (a: z.infer<typeof schemas.delete_node>, app) => {
      const r = await app.kg.remove(a.id, a.force);
      const from = [...new Set(r.dangling.map((d) => d.from))];
      return ok(
        `deleted ${r.node.type} ${r.node.id}${from.length ? (a.force ? `; links removed from ${from.join(', ')}` : `; links now dangling in ${from.join(', ')}`) : ''}`,
        { id: r.node.id, type: r.node.type, dangling: r.dangling },
      );
    }),
  );

  server.registerTool(
    'move_node',
    {
      title: 'Rename or move a node',
      description:
        'Give a node a new title and/or move it to another type. Its id stays, so relations keep working; [[wikilinks]] naming the old title are rewritten in the nodes that have them.',
      inputSchema: schemas.move_node,
      annotations: write,
    },
    onGraph(async (a: z.infer<typeof schemas.move_node>, app) => {
      const r = await app.kg.move(a.id, {
        ...(a.new_title !== undefined ? { title: a.new_title } : {}),
        ...(a.node_type ? { type: a.node_type } : {}),
      });
      return ok(
        `moved ${r.from.type} '${r.from.title}' to ${r.node.type} '${r.node.title}'${r.relinked.length ? `; links updated in ${r.relinked.map((x) => x.id).join(', ')}` : ''}`,
        { id: r.node.id, type: r.node.type, title: r.node.title, path: r.path, from: r.from, relinked: r.relinked },
      );
    }),
  );

  server.registerTool(
    'get_guidelines',
    {
      title: 'Get guidelines for a topic',
      description:
        "Guidelines that apply to a topic, from this project's graph and the org graph it inherits from; the project's version wins on the same id, and each result says which graph it came from.",
      inputSchema: schemas.get_guidelines,
      annotations: ro,
    },
    onGraph(async (a: z.infer<typeof schemas.get_guidelines>, app) => {
      const org = a.include_shared ? await app.orgNodes() : undefined;
      const hits = mergeGuidelines((await app.currentGraph()).nodes, org?.nodes ?? [], a.topic, {
        includeShared: a.include_shared,
        ...(a.limit ? { limit: a.limit } : {}),
      });
      const text =
        hits.length === 0
          ? `no guidelines about "${a.topic}"`
          : hits
              .map(
                (h) =>
                  `## ${h.title}\n(id: ${h.id}, from the ${h.graph} graph${h.overrides ? ', overrides org' : ''})\n\n${h.body.trim()}`,
              )
              .join('\n\n');
      return ok(text, { topic: a.topic, count: hits.length, guidelines: hits });
    }),
  );

  const countTypes = (nodes: { node: { type: string } }[]) => {
    const by: Record<string, number> = {};
    for (const n of nodes) by[n.node.type] = (by[n.node.type] ?? 0) + 1;
    return by;
  };

  server.registerTool(
    'list_graphs',
    {
      title: 'List knowledge graphs',
      description:
        "The graphs this server offers (the project's and those in [[graphs]]; pass one as `graph` to any tool, or `switch`), and the org graph guidelines are inherited from.",
      inputSchema: schemas.list_graphs,
      annotations: ro,
    },
    guard(async () => {
      const graphsOut: Record<string, unknown>[] = [];
      for (const e of graphs.entries) {
        try {
          const g = await graphs.get(e.name).currentGraph();
          graphsOut.push({
            name: e.name,
            kind: e.kind,
            path: e.dir,
            current: e.name === current,
            nodes: g.size,
            types: countTypes(g.nodes),
          });
        } catch (err) {
          graphsOut.push({
            name: e.name,
            kind: e.kind,
            path: e.dir,
            current: e.name === current,
            error: (err as Error).message,
          });
        }
      }
      const org = await home.orgNodes().catch((e: unknown) => ({ error: (e as Error).message }));
      if (org && 'error' in org) graphsOut.push({ name: 'org', kind: 'org', error: org.error });
      else if (org)
        graphsOut.push({
          name: 'org',
          kind: 'org',
          path: org.dir,
          ...(org.url ? { url: org.url } : {}),
          nodes: org.nodes.length,
          types: countTypes(org.nodes),
        });
      return ok(
        graphsOut
          .map(
            (x) =>
              `${x.current ? '* ' : ''}${x.name} (${x.kind}): ${x.nodes ?? '?'} nodes at ${x.path ?? ''}${x.error ? ` (${x.error})` : ''}`,
          )
          .join('\n'),
        { current, graphs: graphsOut },
      );
    }),
  );

  server.registerTool(
    'switch',
    {
      title: 'Switch the current graph',
      description: 'Make another graph (a name from list_graphs) the default for the following calls of this session.',
      inputSchema: schemas.switch,
      annotations: { ...ro, idempotentHint: true },
    },
    guard(async (a: z.infer<typeof schemas.switch>) => {
      const g = await graphs.get(a.graph).currentGraph();
      const previous = current;
      current = a.graph;
      return ok(`current graph: ${a.graph} (${g.size} nodes); was ${previous}`, { current, previous, nodes: g.size });
    }),
  );

  server.registerTool(
    'recent_activity',
    {
      title: 'Recent activity',
      description:
        'Nodes created or changed in a time window (default the last 7 days), newest first, optionally only some types: what the team recorded lately.',
      inputSchema: schemas.recent_activity,
      annotations: ro,
    },
    onGraph(async (a: z.infer<typeof schemas.recent_activity>, app) => {
      const since = parseSince(a.since ?? '7d');
      const until = a.until ? parseSince(a.until) : undefined;
      const items = recentActivity(await app.currentGraph(), {
        since,
        ...(until ? { until } : {}),
        ...(a.types ? { types: a.types } : {}),
        limit: a.limit,
      });
      const text =
        items.length === 0
          ? `nothing created or changed since ${since.toISOString()}`
          : items.map((i) => `${i.updated} ${i.change} ${i.type} ${i.title} (id: ${i.id}, ${i.status})`).join('\n');
      return ok(text, {
        since: since.toISOString(),
        ...(until ? { until: until.toISOString() } : {}),
        count: items.length,
        items: items.map(({ path, ...rest }) => ({ ...rest, path: app.store.rel(path) })),
      });
    }),
  );

  server.registerTool(
    'build_context',
    {
      title: 'Build context around a node',
      description:
        'A node and the nodes around it: relations and [[links]] followed both ways up to `depth` hops, ranked (closer and stronger relations first, then newer), optionally only those changed in a time window. Each comes with a short summary; use get_node for the full text.',
      inputSchema: schemas.build_context,
      annotations: ro,
    },
    onGraph(async (a: z.infer<typeof schemas.build_context>, app) => {
      const g = await app.currentGraph();
      const root = app.kg.get(a.id, g);
      const since = a.since ? parseSince(a.since) : undefined;
      const until = a.until ? parseSince(a.until) : undefined;
      const related = buildContext(g, root.node.id, {
        depth: a.depth,
        limit: a.limit,
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
      });
      const text = [
        `# ${root.node.title} (id: ${root.node.id}, ${root.node.type}, ${root.node.status}, updated ${root.node.updated})`,
        '',
        root.node.body.trim(),
        '',
        related.length === 0 ? 'No related nodes.' : `## Related (${related.length})`,
        ...related.map(
          (r) =>
            `- ${r.title} (id: ${r.id}, ${r.type}, ${r.depth} hop(s), ${r.direction === 'out' ? `${r.from} ${r.relation} it` : `it ${r.relation} ${r.from}`}, score ${r.score})\n  ${r.summary}`,
        ),
      ].join('\n');
      return ok(text, {
        root: { ...nodeObject(root.node), path: app.store.rel(root.path) },
        depth: a.depth,
        ...(since ? { since: since.toISOString() } : {}),
        ...(until ? { until: until.toISOString() } : {}),
        related,
      });
    }),
  );

  server.registerTool(
    'export',
    {
      title: 'Export the graph',
      description:
        'Export nodes as markdown (the node files, concatenated), JSON or YAML (one document kogral can import again), optionally filtered.',
      inputSchema: schemas.export,
      annotations: ro,
    },
    onGraph(async (a: z.infer<typeof schemas.export>, app) => {
      const nodes = selectNodes(await app.currentGraph(), a.filter ?? {});
      const text =
        a.format === 'json'
          ? toJson(app.name, nodes)
          : a.format === 'yaml'
            ? toYaml(app.name, nodes)
            : nodes.map((n) => `<!-- kogral: ${n.type}s/${n.id}.md -->\n${serializeNode(n)}`).join('\n');
      return ok(text, { format: a.format, count: nodes.length });
    }),
  );

  server.registerResource(
    'node',
    new ResourceTemplate('kogral://node/{id}', {
      list: async () => ({
        resources: (await graphs.get(current).currentGraph()).nodes.map((s) => ({
          uri: `kogral://node/${s.node.id}`,
          name: s.node.id,
          title: s.node.title,
          description: `${s.node.type} · ${s.node.status}`,
          mimeType: 'text/markdown',
        })),
      }),
    }),
    { title: 'Knowledge graph node', description: 'A node as its markdown file', mimeType: 'text/markdown' },
    async (uri, vars) => {
      const id = decodeURIComponent(String(vars.id ?? ''));
      const s = graphs.get(current).kg.get(id);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: serializeNode(s.node) }] };
    },
  );
  server.registerResource(
    'guide',
    'kogral://guide',
    {
      title: 'How to use this knowledge graph',
      description: 'When to search, how to record incidents and decisions, editing, graphs and prompts',
      mimeType: 'text/markdown',
    },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: GUIDE }] }),
  );

  const prompt = (text: string) => ({
    messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }],
  });
  server.registerPrompt(
    'postmortem',
    {
      title: 'Write a postmortem',
      description: 'Search for what is known, then record a blameless postmortem with add_execution and link it',
      argsSchema: {
        incident: z.string().min(1).describe('What happened, in a line'),
        notes: z.string().optional().describe('Timeline, symptoms, fixes: whatever is known so far'),
      },
    },
    (a) => prompt(postmortemPrompt(a)),
  );
  server.registerPrompt(
    'adr',
    {
      title: 'Record a decision (ADR)',
      description: 'Check earlier decisions and guidelines, then record the decision with add_decision',
      argsSchema: {
        decision: z.string().min(1).describe('The decision, e.g. "Use Cilium for the cluster network"'),
        context: z.string().optional().describe('Why it came up: the problem and the forces'),
      },
    },
    (a) => prompt(adrPrompt(a)),
  );
  server.registerPrompt(
    'runbook',
    {
      title: 'Write a runbook',
      description: 'Learn from past incidents, then write a step-by-step runbook with add_note',
      argsSchema: {
        task: z.string().min(1).describe('What the runbook does, e.g. "fail over the primary database"'),
        service: z.string().optional().describe('The service or component'),
      },
    },
    (a) => prompt(runbookPrompt(a)),
  );
  return server;
}

/** Serves on stdio until the client disconnects. */
export async function serveStdio(app: App, version: string): Promise<void> {
  await app.watch();
  const graphs = new GraphSet(app);
  await serveMcp(createMcpServer(app, version, graphs));
  graphs.close();
}
