import * as z from '@stratumiops/shared/zod';
import { ROLES, type Role } from './roles.js';

/**
 * Kanban columns. `awaiting_approval`: the work (or its spending past the budget) waits for a person's decision;
 * `failed` holds tasks whose work failed, was rejected or was dead-lettered.
 */
export const TASK_STATUSES = ['todo', 'doing', 'awaiting_approval', 'review', 'done', 'failed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Task priority: Low = 1 … Critical = 4. */
export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const priorityValue = (p: Priority): number => PRIORITIES.indexOf(p) + 1;
export const priorityName = (n: number): Priority => PRIORITIES[Math.min(3, Math.max(0, n - 1))] as Priority;

export const AGENT_STATUSES = ['ready', 'busy', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const PROVIDERS = ['anthropic', 'openai', 'gemini', 'ollama', 'exec'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/**
 * Outcome of one execution; everything but `success` counts against expertise, except `refused` (the budget
 * refused the call: the agent never got to try).
 */
export const OUTCOMES = ['success', 'failure', 'error', 'timeout', 'dead', 'refused'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const ON_EXCEEDED = ['downgrade', 'block', 'approval'] as const;
export type OnExceeded = (typeof ON_EXCEEDED)[number];

export interface Project {
  id: string;
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
}

export interface Task {
  id: string;
  projectId: string | null;
  title: string;
  description: string;
  type: string;
  role: Role | null;
  priority: Priority;
  status: TaskStatus;
  payload: Record<string, unknown>;
  result: unknown;
  error: string | null;
  agentId: string | null;
  /** Changes on every (re)assignment: results for an older one are ignored. */
  assignmentId: string | null;
  attempt: number;
  /** When the assignment was handed to the bus; null while it waits in the outbox. */
  dispatchedAt: number | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** The pipeline run and step this task does, if any. */
  runId?: string | null;
  stepId?: string | null;
  /** A person approved spending past the role's budget for this task (budget policy `approval`). */
  overBudgetApproved?: boolean;
}

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
/** run: the role's work needs approval before it runs; budget: the call would pass the budget; step: a pipeline gate. */
export const APPROVAL_KINDS = ['run', 'budget', 'step'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

export interface Approval {
  id: string;
  kind: ApprovalKind;
  taskId: string | null;
  runId: string | null;
  stepId: string | null;
  /** The role whose work waits. */
  role: Role;
  /** What will happen when approved, in words. */
  action: string;
  details: Record<string, unknown>;
  status: ApprovalStatus;
  /** The token (id) that caused the request, when one did: it may not decide it. */
  requestedBy: string | null;
  requestedAt: number;
  expiresAt: number | null;
  decidedBy: string | null;
  decidedAt: number | null;
  reason: string | null;
}

export const RUN_STATUSES = [
  'running',
  'succeeded',
  'failed',
  'rolling_back',
  'rolled_back',
  'rollback_failed',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const STEP_STATUSES = ['pending', 'waiting', 'running', 'done', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface PipelineRun {
  id: string;
  pipeline: string;
  /** The definition as it was when the run started (editing the file does not change a running run). */
  definition: unknown;
  projectId: string | null;
  inputs: Record<string, unknown>;
  status: RunStatus;
  error: string | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface StepState {
  runId: string;
  stepId: string;
  phase: 'forward' | 'rollback';
  status: StepStatus;
  taskId: string | null;
  output: unknown;
  attempts: number;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface Agent {
  id: string;
  role: Role;
  provider: ProviderName;
  /** The model, or for `exec` the command template. */
  model: string;
  status: AgentStatus;
  /** 0 (idle) … 1 (full). */
  load: number;
  capacity: number;
  lastHeartbeat: number | null;
  createdAt: number;
}

export interface Execution {
  id: string;
  taskId: string;
  agentId: string;
  role: Role;
  taskType: string;
  assignmentId: string;
  startedAt: number | null;
  finishedAt: number;
  durationMs: number;
  inputTokens: number;
  outputTokens: number;
  costMicrocents: number;
  outcome: Outcome;
  error: string | null;
}

/** One LLM (or exec) call attempt: money in integer micro-cents (1 cent = 1,000,000). */
export interface CostRecord {
  id: string;
  requestId: string;
  taskId: string | null;
  role: Role;
  taskType: string;
  provider: ProviderName;
  /** The model asked for. */
  model: string;
  /** The model that actually served (from the response), the one priced. */
  servedModel: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicrocents: number;
  priceVersion: string;
  /** `ok`, or the error kind of a failed attempt (those cost 0). */
  outcome: string;
  /** The target this hop fell back from, if any (`provider:model`). */
  fallbackFrom: string | null;
  monthKey: string;
  weekKey: string;
  createdAt: number;
}

export interface Budget {
  role: Role;
  monthlyMicrocents: number | null;
  weeklyMicrocents: number | null;
  onExceeded: OnExceeded | null;
  updatedAt: number;
}

export const MICROCENTS_PER_CENT = 1_000_000;
export const centsToMicro = (cents: number): number => Math.round(cents * MICROCENTS_PER_CENT);
export const microToCents = (micro: number): number => micro / MICROCENTS_PER_CENT;

// ---- inputs, validated with zod wherever they come from (flags, HTTP bodies, bus messages) ----

export const roleSchema = z.enum(ROLES, {
  error: (i) => `unknown role '${String(i.input)}' (one of ${ROLES.join(', ')})`,
});
const jsonObject = z.record(z.string(), z.unknown());
/** Task types route by regex and key expertise: keep them plain. */
export const taskTypeSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'task type: letters, digits, _ . : - (up to 100)');
/** Agent ids become NATS subject tokens and consumer names. */
export const agentIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'agent id: lowercase letters, digits, _ -');

export const projectInput = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'project name: letters, digits, _ . -'),
  description: z.string().max(10_000).default(''),
});
export const projectPatch = projectInput.partial();

export const taskInput = z.strictObject({
  title: z.string().trim().min(1, 'title is required').max(500),
  type: taskTypeSchema,
  project: z.string().min(1).optional(),
  role: roleSchema.optional(),
  priority: z.enum(PRIORITIES).default('normal'),
  description: z.string().max(100_000).default(''),
  payload: jsonObject.default({}),
});
export type TaskInput = z.input<typeof taskInput>;
export const taskPatch = z.strictObject({
  title: z.string().trim().min(1).max(500).optional(),
  description: z.string().max(100_000).optional(),
  priority: z.enum(PRIORITIES).optional(),
  status: z.enum(TASK_STATUSES).optional(),
  payload: jsonObject.optional(),
  role: roleSchema.nullable().optional(),
});

export const agentInput = z
  .strictObject({
    role: roleSchema,
    id: agentIdSchema.optional(),
    provider: z.enum(PROVIDERS).optional(),
    model: z.string().min(1).max(2000).optional(),
    /** For the exec provider: the command template, e.g. `scripts/check.sh {{payload.host}}`. */
    command: z.string().min(1).max(2000).optional(),
    capacity: z.number().int().min(1).max(1000).default(1),
  })
  .refine((a) => a.provider !== 'exec' || a.command || a.model, { message: 'an exec agent needs a command' });
export type AgentInput = z.input<typeof agentInput>;

export const heartbeatInput = z.strictObject({
  status: z.enum(AGENT_STATUSES).default('ready'),
  load: z.number().min(0).max(1).optional(),
});

export const budgetInput = z.strictObject({
  /** cents */
  monthly: z.number().int().nonnegative().nullable().optional(),
  weekly: z.number().int().nonnegative().nullable().optional(),
  on_exceeded: z.enum(ON_EXCEEDED).nullable().optional(),
});

/** First zod issue as one line: `payload.host: expected string`. */
export function describeZodError(err: z.ZodError, prefix = ''): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid input';
  const path = issue.path.map(String).join('.');
  const where = [prefix, path].filter(Boolean).join('.');
  const keys = 'keys' in issue && Array.isArray(issue.keys) ? ` '${(issue.keys as string[]).join("', '")}'` : '';
  return `${where ? `${where}: ` : ''}${issue.message}${keys}`;
}
