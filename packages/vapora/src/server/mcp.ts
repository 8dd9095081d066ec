/**
 * vapora's MCP server: tasks, pipelines, approvals, budgets and routing for AI assistants. Every call acts as one
 * token and obeys its role: locally through the same Cedar policies and project scopes as the REST API, remotely
 * because the server enforces them.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { deniedError } from '@stratumiops/shared/errors';
import { guard, READ_ONLY, toolResult, WRITES } from '@stratumiops/shared/mcp';
import * as z from '@stratumiops/shared/zod';
import type { VaporaApi } from '../client/index.js';
import type { Action, Caller, Kind, PolicySet } from '../core/auth.js';
import { PRIORITIES, TASK_STATUSES } from '../core/model.js';
import { ROLES } from '../core/roles.js';

export interface McpBackend {
  api: VaporaApi;
  /** Local: the token's caller and the policies deciding for it (remote: the server decides). */
  caller?: Caller;
  policy?: PolicySet;
}

const schemas = {
  create_task: z.strictObject({
    title: z.string().min(1).describe('What to do, in a line'),
    type: z.string().min(1).describe('Task type, e.g. manifest_validation (routing rules and expertise key on it)'),
    role: z.enum(ROLES).optional().describe('Role that should do it'),
    project: z.string().optional().describe('Project id or name'),
    priority: z.enum(PRIORITIES).optional(),
    description: z.string().optional(),
    payload: z.record(z.string(), z.unknown()).optional().describe('Input data for the agent (JSON object)'),
  }),
  list_tasks: z.strictObject({
    status: z.enum(TASK_STATUSES).optional().describe('Only this kanban column'),
    project: z.string().optional(),
    role: z.enum(ROLES).optional(),
  }),
  task_status: z.strictObject({ id: z.string().min(1).describe('Task id') }),
  assign_task: z.strictObject({
    id: z.string().min(1).describe('Task id'),
    agent_id: z.string().optional().describe('This agent instead of the best-scoring one'),
    dry_run: z.boolean().default(false).describe('Only show the scores'),
  }),
  run_pipeline: z.strictObject({
    name: z.string().min(1).describe('Pipeline name (see the pipelines in .vapora/pipelines)'),
    project: z.string().optional(),
    inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  }),
  pipeline_status: z.strictObject({ run_id: z.string().min(1) }),
  list_approvals: z.strictObject({ all: z.boolean().default(false).describe('Also decided requests') }),
  approve: z.strictObject({
    ref: z.string().min(1).describe('Approval id, task id, or <run>/<step>'),
    reason: z.string().optional(),
  }),
  reject: z.strictObject({
    ref: z.string().min(1).describe('Approval id, task id, or <run>/<step>'),
    reason: z.string().optional(),
  }),
  budget_status: z.strictObject({ role: z.enum(ROLES).optional().describe('One role (default: the limited ones)') }),
  route_preview: z.strictObject({
    task_type: z.string().min(1),
    role: z.enum(ROLES),
    prompt: z.string().max(1_000_000).optional(),
    max_tokens: z.number().int().positive().optional(),
  }),
};

const json = (v: unknown, text?: string) =>
  toolResult(text ?? JSON.stringify(v, null, 2), (Array.isArray(v) ? { items: v } : v) as Record<string, unknown>);

export function createMcpServer(b: McpBackend, version: string): McpServer {
  const server = new McpServer(
    { name: 'vapora', version },
    {
      instructions:
        "Vapora runs this team's work through agents by role: create and assign tasks, run pipelines, see and decide approvals, check budgets and where a request would be routed. DevOps and Security work waits for a person's approval.",
    },
  );
  const { api, caller } = b;
  const allow = async (action: Action, kind: Kind) => {
    if (!b.policy || !caller) return;
    const d = await b.policy.authorize(caller, action, kind);
    if (d.error) throw deniedError(`every request is denied: ${d.error}`);
    if (!d.allowed) throw deniedError(`token '${caller.name}' (${caller.role}) may not ${action} ${kind}`);
  };
  const tool = <S extends z.ZodObject>(
    name: keyof typeof schemas & string,
    title: string,
    description: string,
    access: [Action, Kind],
    run: (a: z.infer<S>) => Promise<ReturnType<typeof toolResult>>,
  ) =>
    server.registerTool(
      name,
      {
        title,
        description,
        inputSchema: schemas[name] as unknown as S,
        annotations: access[0] === 'read' ? READ_ONLY : WRITES,
      },
      guard(async (a: z.infer<S>) => {
        await allow(...access);
        return run(a);
      }) as never,
    );

  tool<typeof schemas.create_task>(
    'create_task',
    'Create a task',
    'A task on the kanban board (todo).',
    ['write', 'task'],
    async (a) => {
      const t = await api.createTask(a, caller);
      return json(t, `created ${t.id} (${t.type}${t.role ? `, ${t.role}` : ''}): ${t.title}`);
    },
  );
  tool<typeof schemas.list_tasks>(
    'list_tasks',
    'List tasks',
    'Tasks, best priority first; filter by column, project, role.',
    ['read', 'task'],
    async (a) => {
      const tasks = await api.listTasks(a, caller);
      return json(
        tasks,
        tasks.length
          ? tasks.map((t) => `${t.id} [${t.status}] ${t.title} (${t.type}, ${t.role ?? '-'})`).join('\n')
          : 'no tasks',
      );
    },
  );
  tool<typeof schemas.task_status>(
    'task_status',
    'Task status',
    'A task with its executions, result and costs.',
    ['read', 'task'],
    async (a) => json(await api.taskDetail(a.id, caller)),
  );
  tool<typeof schemas.assign_task>(
    'assign_task',
    'Assign a task',
    "To the best-scoring agent of its role (or agent_id), with every candidate's score; DevOps and Security work waits for approval.",
    ['assign', 'task'],
    async (a) => {
      const r = await api.assign(a.id, { agentId: a.agent_id, dryRun: a.dry_run }, caller);
      const text = r.approval
        ? `waits for approval ${r.approval.id}`
        : `${r.dryRun ? 'would go to' : 'assigned to'} ${r.chosen?.agentId}`;
      return json(r, text);
    },
  );
  tool<typeof schemas.run_pipeline>(
    'run_pipeline',
    'Run a pipeline',
    'Start a pipeline run with its inputs.',
    ['write', 'task'],
    async (a) => {
      const v = await api.startPipeline(
        a.name,
        { ...(a.project ? { project: a.project } : {}), inputs: a.inputs },
        caller,
      );
      return json(v, `run ${v.run.id} of ${v.run.pipeline}: ${v.run.status}`);
    },
  );
  tool<typeof schemas.pipeline_status>(
    'pipeline_status',
    'Pipeline run status',
    'Each step: state, agent, output, cost.',
    ['read', 'task'],
    async (a) => {
      const v = await api.pipelineStatus(a.run_id, caller);
      return json(
        v,
        `run ${v.run.id}: ${v.run.status}\n${v.steps.map((s) => `${s.phase === 'rollback' ? '↩ ' : ''}${s.step} ${s.status}`).join('\n')}`,
      );
    },
  );
  tool<typeof schemas.list_approvals>(
    'list_approvals',
    'List approvals',
    'What waits for a decision.',
    ['read', 'task'],
    async (a) => {
      const list = await api.listApprovals({ all: a.all }, caller);
      return json(
        list,
        list.length ? list.map((x) => `${x.id} ${x.status}: ${x.action}`).join('\n') : 'nothing waits for approval',
      );
    },
  );
  tool<typeof schemas.approve>(
    'approve',
    'Approve',
    'Approve waiting work (not your own request).',
    ['approve', 'task'],
    async (a) => json(await api.approve(a.ref, a.reason ? { reason: a.reason } : {}, caller)),
  );
  tool<typeof schemas.reject>(
    'reject',
    'Reject',
    'Reject waiting work; a pipeline rolls back.',
    ['approve', 'task'],
    async (a) => json(await api.reject(a.ref, a.reason ? { reason: a.reason } : {}, caller)),
  );
  tool<typeof schemas.budget_status>(
    'budget_status',
    'Budget status',
    'Spend, held and limits per role, in cents.',
    ['read', 'budget'],
    async (a) => {
      const all = await api.budgets(a.role);
      const shown = a.role ? all : all.filter((x) => x.month.limit_cents !== null || x.week.limit_cents !== null);
      return json(
        shown,
        shown
          .map((x) => `${x.role}: ${x.state}, ${x.month.spent_cents}¢ of ${x.month.limit_cents ?? '∞'}¢ this month`)
          .join('\n') || 'no budgets set',
      );
    },
  );
  tool<typeof schemas.route_preview>(
    'route_preview',
    'Preview routing',
    'Which provider and model a request would go to, what it reserves, and what is skipped and why.',
    ['read', 'llm'],
    async (a) =>
      json(
        await api.route(a.task_type, a.role, {
          ...(a.prompt ? { prompt: a.prompt } : {}),
          ...(a.max_tokens ? { maxTokens: a.max_tokens } : {}),
        }),
      ),
  );
  return server;
}
