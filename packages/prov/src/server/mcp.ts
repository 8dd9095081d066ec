/**
 * prov's MCP server: the tools that stand on what prov does today. validate_config runs prov validate's checks,
 * query_infrastructure answers exactly from state rows and cites them, generate_config returns only a config
 * that validated. Thin: the logic is in core/assist.ts.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { usageError } from '@stratumiops/shared/errors';
import { guard, READ_ONLY, toolResult } from '@stratumiops/shared/mcp';
import { z } from 'zod';
import {
  answer,
  type Drafter,
  generateConfig,
  type InfraFilter,
  parseQuestion,
  RESOURCE_KINDS,
  type ValidationDeps,
  validatePath,
  validateText,
} from '../core/assist.js';
import type { StateStore } from '../core/state.js';

export interface ProvMcpBackend {
  validation(): Promise<ValidationDeps>;
  openStore(): Promise<StateStore>;
  /** The configured model; throws a usage error naming the setting when there is none. */
  drafter(): Drafter;
  maxRounds: number;
}

/** The seed's tools not built yet: not registered (no stubs), named in `prov mcp serve --help`. */
export const PLANNED_TOOLS = ['estimate_cost', 'check_compliance', 'plan_migration', 'execute_workflow'] as const;
export const TOOLS = ['validate_config', 'query_infrastructure', 'generate_config'] as const;

const PROVIDERS = ['aws', 'upcloud', 'local'] as const;

export const schemas = {
  validate_config: z.strictObject({
    config: z
      .string()
      .max(1_000_000)
      .optional()
      .describe('The Nickel config text (evaluated as a file of the workspace)'),
    path: z.string().min(1).optional().describe('Or a .ncl file inside the workspace'),
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

export async function queryInfrastructure(store: StateStore, a: z.infer<typeof schemas.query_infrastructure>) {
  const records = await store.list();
  const { serial } = await store.meta();
  const { query, ...given } = a;
  const filter: InfraFilter = { ...(query ? parseQuestion(query, records) : {}) };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) (filter as Record<string, string>)[k] = v;
  return answer(records, filter, serial);
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
        'Resources recorded in state (servers, taskservs, networks) with their provider, zone, status and services, matched exactly by filters or by the words of a question. Every row cites the state row it came from (state:<address>).',
      inputSchema: schemas.query_infrastructure.shape,
      annotations: READ_ONLY,
    },
    guard(async (a: z.infer<typeof schemas.query_infrastructure>) => {
      const store = await b.openStore();
      try {
        const r = await queryInfrastructure(store, a);
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
  return server;
}
