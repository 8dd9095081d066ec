/**
 * prov's MCP server. validate_config runs prov validate's checks, query_infrastructure answers exactly from state
 * rows and cites them, generate_config returns only a config that validated, estimate_cost, check_compliance and
 * plan_migration are prov estimate, compliance and migrate plan. Thin: the logic is in core/.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { usageError } from '@stratumiops/shared/errors';
import { guard, READ_ONLY, toolResult, WRITES } from '@stratumiops/shared/mcp';
import * as z from '@stratumiops/shared/zod';
import {
  answer,
  configFacts,
  type Drafter,
  fuseRanked,
  generateConfig,
  type InfraFilter,
  isInventoryQuestion,
  type KnowledgeSearch,
  parseQuestion,
  questionTerms,
  RESOURCE_KINDS,
  type ValidationDeps,
  validatePath,
  validateText,
  withConfig,
  workspacePath,
} from '../core/assist.js';
import {
  atOrAbove,
  checkCompliance,
  type Evaluated,
  FRAMEWORKS,
  loadRules,
  renderText,
  SEVERITIES,
} from '../core/compliance.js';
import { estimate, type PriceTable, renderEstimate } from '../core/estimate.js';
import { type LoadedConfig, migrationDocument, renderMigration } from '../core/migrate.js';
import type { StateStore } from '../core/state.js';
import type { TimelineEvent, WorkflowRun, WorkflowTask } from '../core/workflow.js';

export interface ProvMcpBackend {
  /** The folder whose files the tools may read (paths outside it are refused). */
  workspace: string;
  validation(): Promise<ValidationDeps>;
  openStore(): Promise<StateStore>;
  /** The configured model; throws a usage error naming the setting when there is none. */
  drafter(): Drafter;
  maxRounds: number;
  /** A config checked as plan checks it (contract or reference errors throw, with every error). */
  loadInfra(file: string): Promise<LoadedConfig>;
  /** A config exported with the positions of its values, for compliance findings. */
  evaluate(file: string): Promise<Evaluated>;
  priceTables(): Promise<Map<string, PriceTable>>;
  /** Beside state, what a question is answered from: the team's kogral graph and the workspace's config. */
  querySources(): QuerySources;
  /** Whether execute_workflow may really run (the server was started with --allow-execute). */
  allowExecute: boolean;
  /** A workflow's steps (dry run) or its run through the orchestrator, events passed on as they happen. */
  workflow(req: WorkflowCall, onEvent: (e: TimelineEvent, total: number) => void): Promise<WorkflowOutcome>;
}

export interface WorkflowCall {
  workflow: string;
  cluster?: string | undefined;
  servers?: string[] | undefined;
  params: Record<string, unknown>;
  dryRun: boolean;
}

export type WorkflowOutcome =
  | { dry_run: true; workflow: string; description: string; tasks: Pick<WorkflowTask, 'id' | 'kind' | 'deps'>[] }
  | { dry_run: false; run: WorkflowRun };

/** What an MCP client may send along with a call: a progress token, and the way to send notifications. */
interface CallExtra {
  _meta?: { progressToken?: string | number };
  sendNotification?: (n: { method: string; params: Record<string, unknown> }) => Promise<void>;
}

export const TOOLS = [
  'validate_config',
  'query_infrastructure',
  'generate_config',
  'estimate_cost',
  'check_compliance',
  'plan_migration',
  'execute_workflow',
] as const;

const PROVIDERS = ['aws', 'upcloud', 'local'] as const;

/** A config given as text or as a workspace file (withConfig takes exactly one). */
const configSource = {
  config: z
    .string()
    .max(1_000_000)
    .optional()
    .describe('The Nickel config text (evaluated as a file of the workspace)'),
  path: z.string().min(1).optional().describe('Or a .ncl file inside the workspace'),
};

export const schemas = {
  validate_config: z.strictObject({
    ...configSource,
  }),
  query_infrastructure: z.strictObject({
    query: z
      .string()
      .max(2000)
      .optional()
      .describe('A question, e.g. "AWS servers in us-east-1", "which servers run etcd"'),
    kind: z.enum(RESOURCE_KINDS).optional().describe('Only this kind of resource'),
    provider: z.enum(PROVIDERS).optional(),
    zone: z.string().min(1).optional().describe('Zone or region (a prefix matches: us-east-1 matches us-east-1a)'),
    status: z.string().min(1).optional(),
    service: z.string().min(1).optional().describe('Taskservs of this service, and the servers running it'),
    host: z.string().min(1).optional().describe('One server and the taskservs on it'),
  }),
  estimate_cost: z.strictObject({
    ...configSource,
    region: z.string().min(1).max(64).optional().describe('Price every server in this region instead of its own'),
  }),
  check_compliance: z.strictObject({
    ...configSource,
    framework: z.enum(FRAMEWORKS).describe('Whose rules run: soc2, hipaa, gdpr or pci'),
    fail_on: z.enum(SEVERITIES).optional().describe('Severity from which a finding fails the check (default low)'),
  }),
  plan_migration: z.strictObject({
    current: z.string().min(1).describe('The current config: a .ncl file inside the workspace'),
    target: z.string().min(1).describe('The target config: a .ncl file inside the workspace'),
  }),
  execute_workflow: z.strictObject({
    workflow: z.string().min(1).describe('backup, monitoring, security, or a workflow .ncl file of the workspace'),
    cluster: z.string().min(1).optional().describe('Run on this cluster of the workspace'),
    servers: z.array(z.string().min(1)).min(1).max(1000).optional().describe('Or on these hosts'),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    dry_run: z
      .boolean()
      .default(true)
      .describe('true (default): list the steps only; false runs them, if the server allows it (--allow-execute)'),
  }),
  generate_config: z.strictObject({
    description: z.string().min(1).max(20_000).describe('What to build, in plain language'),
    provider: z.enum(PROVIDERS).optional(),
    resource_type: z.enum(['server', 'network', 'cluster', 'database']).optional(),
    max_rounds: z
      .number()
      .int()
      .min(1)
      .max(10)
      .optional()
      .describe('Drafts the model may make (default: llm.max_rounds)'),
  }),
};

/** Where a question's facts come from beside state: the team's knowledge (kogral) and the workspace's config. */
export interface QuerySources {
  knowledge?: KnowledgeSearch | undefined;
  config?: { file: string; text: string } | undefined;
  /** The configured model, when there is one: it answers from the facts, citing them. */
  model?: Drafter | undefined;
}

const ANSWER_SYSTEM =
  'You answer questions about this infrastructure using only the numbered facts given. Cite every fact you use by its source in square brackets, exactly as given, e.g. [state:server.db-1]. If the facts do not answer the question, say so in one sentence. Be brief.';

/** The model's answer from the facts: what it cited that exists, and what it cited that does not (never trusted). */
async function modelAnswer(model: Drafter, question: string, facts: { source: string; text: string }[]) {
  const list = facts.map((f, i) => `${i + 1}. [${f.source}] ${f.text}`).join('\n');
  const d = await model.chat([{ role: 'user', content: `Question: ${question}\n\nFacts:\n${list}` }], ANSWER_SYSTEM);
  const citedAll = [...new Set([...d.text.matchAll(/\[([^\]\s]+)\]/g)].map((m) => m[1] as string))];
  const known = new Set(facts.map((f) => f.source));
  return {
    text: d.text.trim(),
    cited: citedAll.filter((c) => known.has(c)),
    unknown_citations: citedAll.filter((c) => !known.has(c)),
    model: d.model,
    cost_microcents: d.costMicroCents,
  };
}

/**
 * An inventory question, or filters, is answered exactly from state (every row citing its state row). Any other
 * question gets the ranked facts of state, the team's runbooks and ADRs in kogral, and the config, fused by
 * reciprocal rank fusion, each citing its source.
 */
export async function queryInfrastructure(
  store: StateStore,
  a: z.infer<typeof schemas.query_infrastructure>,
  from: QuerySources = {},
) {
  const records = await store.list();
  const { serial } = await store.meta();
  const { query, ...given } = a;
  const filter: InfraFilter = { ...(query ? parseQuestion(query, records) : {}) };
  const filtered = Object.values(given).some((v) => v !== undefined);
  for (const [k, v] of Object.entries(given)) if (v !== undefined) (filter as Record<string, string>)[k] = v;
  const exact = answer(records, filter, serial);
  if (!query || filtered || isInventoryQuestion(filter)) return { mode: 'exact' as const, ...exact };
  // State rows for the services and servers the question names (the exact answer when it names any).
  const named = filter.service || filter.host ? exact.rows : [];
  const stateFacts = named.map((r) => ({ source: r.source, text: `${r.address} (${r.provider}, ${r.status})` }));
  // kogral ranks by text relevance; a hit that shares no word with the question is noise here.
  const terms = questionTerms(query);
  const hits = (from.knowledge ? await from.knowledge(query, 5) : []).filter((h) =>
    terms.some((t) => `${h.title} ${h.snippet}`.toLowerCase().includes(t)),
  );
  const knowledgeFacts = hits.map((h) => ({ source: `kogral:${h.id}`, text: `${h.title} (${h.type}): ${h.snippet}` }));
  const configList = from.config ? configFacts(from.config.file, from.config.text, query) : [];
  const facts = fuseRanked([knowledgeFacts, stateFacts, configList]);
  const text = facts.length
    ? facts.map((f, i) => `${i + 1}. ${f.text.replace(/\s+/g, ' ')}  [${f.source}]`).join('\n')
    : `nothing in state${from.knowledge ? ', the team graph' : ''}${from.config ? ' or the config' : ''} matches "${query}"`;
  const model = from.model && facts.length ? await modelAnswer(from.model, query, facts) : undefined;
  return {
    mode: 'facts' as const,
    filter,
    facts,
    sources: facts.map((f) => f.source),
    ...(model ? { answer: model } : {}),
    ...(from.knowledge ? {} : { note: 'no team knowledge graph configured (knowledge.kogral_dir in prov.toml)' }),
    serial,
    text: model
      ? `${model.text}${model.unknown_citations.length ? `\n(cited but not among the facts, ignored: ${model.unknown_citations.join(', ')})` : ''}\n\nFacts:\n${text}`
      : text,
  };
}

export function createMcpServer(b: ProvMcpBackend, version: string): McpServer {
  const server = new McpServer(
    { name: 'prov', version },
    {
      instructions:
        "prov manages this workspace's infrastructure as typed Nickel configs. validate_config checks a config as `prov validate` does (every error with line and nearest name); query_infrastructure answers from the recorded state and cites the state rows; generate_config drafts a config with the configured model and returns it only once it passes prov's checks.",
    },
  );

  server.registerTool(
    'validate_config',
    {
      title: 'Validate a config',
      description:
        "prov validate's checks on a Nickel config (its text, or a path inside the workspace): the schemas' contracts and plan's checks. Every error with its line, column, field path and the nearest name (did_you_mean).",
      inputSchema: schemas.validate_config.shape,
      annotations: READ_ONLY,
    },
    guard(async (a: z.infer<typeof schemas.validate_config>) => {
      if ((a.config === undefined) === (a.path === undefined)) {
        throw usageError('give either config (the text) or path (a file in the workspace), not both or neither');
      }
      const deps = await b.validation();
      const r = a.config !== undefined ? await validateText(deps, a.config) : await validatePath(deps, a.path!);
      const { json: _json, ...report } = r as typeof r & { json?: string };
      const n = report.errors.length + report.omitted;
      const text = report.ok
        ? `ok: ${report.source} validates${report.warnings.length ? `\nwarnings:\n${report.warnings.join('\n')}` : ''}`
        : `${n} error${n === 1 ? '' : 's'} in ${report.source}:\n${report.text}`;
      return toolResult(text, report as unknown as Record<string, unknown>);
    }) as never,
  );

  server.registerTool(
    'query_infrastructure',
    {
      title: 'Query the infrastructure',
      description:
        'Inventory questions and filters ("which servers run etcd", provider, zone, status, service) are answered exactly from the recorded state, every row citing its state row (state:<address>). Other questions (troubleshooting) get ranked facts from state, the team\'s runbooks, ADRs and postmortems in kogral (kogral:<id>) and the config (file:line), each citing its source.',
      inputSchema: schemas.query_infrastructure.shape,
      annotations: READ_ONLY,
    },
    guard(async (a: z.infer<typeof schemas.query_infrastructure>) => {
      const store = await b.openStore();
      try {
        const r = await queryInfrastructure(store, a, b.querySources());
        return toolResult(r.text, r as unknown as Record<string, unknown>);
      } finally {
        await store.close();
      }
    }) as never,
  );

  server.registerTool(
    'generate_config',
    {
      title: 'Generate a config',
      description:
        'A prov Nickel config from a description, drafted by the configured model and checked as prov validate checks it; a rejected draft goes back to the model with its errors, up to max_rounds drafts. Returns only a config that validated, else an error naming the last problems. Nothing is written.',
      inputSchema: schemas.generate_config.shape,
      annotations: { ...READ_ONLY, openWorldHint: true },
    },
    guard(async (a: z.infer<typeof schemas.generate_config>) => {
      const drafter = b.drafter();
      const deps = await b.validation();
      const r = await generateConfig(
        {
          description: a.description,
          provider: a.provider,
          resource_type: a.resource_type,
          maxRounds: a.max_rounds ?? b.maxRounds,
        },
        drafter,
        (text) => validateText(deps, text),
      );
      return toolResult(r.config, r as unknown as Record<string, unknown>);
    }) as never,
  );
  server.registerTool(
    'estimate_cost',
    {
      title: 'Estimate the monthly cost',
      description:
        "prov estimate on a config (its text or a workspace file): each server's monthly price from the dated price tables (hourly × 730, disks, addresses) in exact decimals, parts billed by use listed apart, and the total. The JSON follows infracost's breakdown.",
      inputSchema: schemas.estimate_cost.shape,
      annotations: READ_ONLY,
    },
    guard(async (a: z.infer<typeof schemas.estimate_cost>) =>
      withConfig(b.workspace, a, async (file, shown) => {
        const loaded = await b.loadInfra(file);
        const resources = a.region
          ? loaded.desired.resources.map((r) =>
              r.kind === 'server' ? { ...r, attrs: { ...r.attrs, region: a.region, zone: a.region } } : r,
            )
          : loaded.desired.resources;
        const e = estimate(resources, await b.priceTables(), shown);
        return toolResult(renderEstimate(e), e as unknown as Record<string, unknown>);
      }),
    ) as never,
  );

  server.registerTool(
    'check_compliance',
    {
      title: 'Check compliance',
      description:
        "prov compliance on a config: the framework's rules (stable ids, severities, fixes, requirement ids) run on the evaluated config; each finding names the field and its file:line. Suppressions written in the config (# prov:skip=ID reason) are honoured and listed. passed is false when a finding at or above fail_on remains.",
      inputSchema: schemas.check_compliance.shape,
      annotations: READ_ONLY,
    },
    guard(async (a: z.infer<typeof schemas.check_compliance>) =>
      withConfig(b.workspace, a, async (file, shown) => {
        const { rules, frameworks } = loadRules();
        const report = checkCompliance(await b.evaluate(file), rules, frameworks[a.framework], a.framework);
        const floor = a.fail_on ?? 'low';
        const failing = report.findings.filter((f) => atOrAbove(f.severity, floor)).length;
        const named = (f: string) => (f === file ? shown : f);
        return toolResult(renderText(report, named), {
          ...(report as unknown as Record<string, unknown>),
          passed: failing === 0,
          failing,
        });
      }),
    ) as never,
  );

  server.registerTool(
    'plan_migration',
    {
      title: 'Plan a migration',
      description:
        'prov migrate plan between two workspace configs (another provider, region or plan): ordered steps (create the target, freeze writes, move the data, reissue certificates, check secrets, switch, destroy the source last), each with its undo, and the monthly cost before and after. Nothing is changed.',
      inputSchema: schemas.plan_migration.shape,
      annotations: READ_ONLY,
    },
    guard(async (a: z.infer<typeof schemas.plan_migration>) =>
      withConfig(b.workspace, { path: a.current }, (current) =>
        withConfig(b.workspace, { path: a.target }, async (target) => {
          const [from, to] = [await b.loadInfra(current), await b.loadInfra(target)];
          const store = await b.openStore();
          try {
            const doc = await migrationDocument(from, to, { store, tables: await b.priceTables() });
            return toolResult(renderMigration(doc), doc as unknown as Record<string, unknown>);
          } finally {
            await store.close();
          }
        }),
      ),
    ) as never,
  );
  server.registerTool(
    'execute_workflow',
    {
      title: 'Run a workflow',
      description:
        "prov workflow run: a workflow's steps (backup, monitoring, security, or a workspace file) on a cluster or hosts. A dry run (the default) lists the steps in order. A real run (dry_run false) is refused unless the server was started with --allow-execute; it goes through prov's orchestrator (checkpoints, retries, rollback of completed steps in reverse on failure, resumable with prov workflow resume) and reports each step as an MCP progress notification.",
      inputSchema: schemas.execute_workflow.shape,
      annotations: { ...WRITES, destructiveHint: true },
    },
    guard(async (a: z.infer<typeof schemas.execute_workflow>, extra: CallExtra) => {
      if (!a.dry_run && !b.allowExecute)
        throw usageError('refused: this server only plans workflows (dry_run true)', {
          hint: 'start it with prov mcp serve --allow-execute to let assistants run them',
        });
      // A workflow file, as for every path a tool takes, must be inside the workspace (a name is a shipped one).
      if (/[/\\]|\.ncl$/.test(a.workflow)) workspacePath(b.workspace, a.workflow);
      const token = extra?._meta?.progressToken;
      let done = 0;
      const out = await b.workflow(
        { workflow: a.workflow, cluster: a.cluster, servers: a.servers, params: a.params, dryRun: a.dry_run },
        (e, total) => {
          if (token === undefined || !extra.sendNotification) return;
          if (e.type === 'done' || e.type === 'failed') done++;
          const what = `${e.type}${e.id ? ` ${e.id}` : ''}${e.error ? `: ${e.error}` : ''}${e.status ? ` (${e.status})` : ''}`;
          void extra
            .sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress: done, total, message: what },
            })
            .catch(() => {});
        },
      );
      if (out.dry_run) {
        const lines = out.tasks.map(
          (t) => `  ${t.id} (${t.kind})${t.deps.length ? ` after ${t.deps.join(', ')}` : ''}`,
        );
        return toolResult(
          `${out.workflow}: ${out.description}\n${lines.join('\n')}`,
          out as unknown as Record<string, unknown>,
        );
      }
      const r = out.run;
      const text = `workflow ${r.workflow} run ${r.id}: ${r.status.replace('_', ' ')}${r.failed.length ? ` (${r.failed.map((f) => `${f.id}: ${f.error}`).join('; ')})` : ''}`;
      const ok = r.status === 'succeeded';
      return {
        ...toolResult(text, { run: r } as unknown as Record<string, unknown>),
        ...(ok ? {} : { isError: true }),
      };
    }) as never,
  );
  return server;
}
