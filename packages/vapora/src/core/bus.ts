import * as z from '@stratumiops/shared/zod';
import { AGENT_STATUSES, OUTCOMES, PRIORITIES, PROVIDERS } from './model.js';
import { ROLES, type Role } from './roles.js';

/** The subjects. Assignments and results carry more tokens: `.<role>.<agent>` and `.<task>`. */
export const SUBJECTS = {
  taskAssignment: 'vapora.tasks.assign',
  taskResults: 'vapora.tasks.results',
  agentHeartbeat: 'vapora.agents.heartbeat',
  alerts: 'vapora.alerts',
  approvalsRequest: 'vapora.approvals.request',
  approvalsResponse: 'vapora.approvals.response',
  /** Where tasks go after max_deliver or a term. */
  deadLetters: 'vapora.tasks.dead',
} as const;

export const assignSubject = (role: Role, agentId: string) => `${SUBJECTS.taskAssignment}.${role}.${agentId}`;
export const resultSubject = (taskId: string) => `${SUBJECTS.taskResults}.${taskId}`;
export const deadSubject = (role: Role) => `${SUBJECTS.deadLetters}.${role}`;

const role = z.enum(ROLES);

/** A TaskAssignment, plus what a worker needs to run it alone. */
export const taskAssignmentSchema = z.object({
  task_id: z.string().min(1),
  assignment_id: z.string().min(1),
  agent_id: z.string().min(1),
  agent_role: role,
  task_type: z.string().min(1),
  title: z.string().default(''),
  description: z.string().default(''),
  payload: z.record(z.string(), z.unknown()),
  priority: z.enum(PRIORITIES),
  provider: z.enum(PROVIDERS),
  model: z.string().min(1),
  attempt: z.number().int().nonnegative().default(1),
  /** A person approved spending past the role's budget for this task. */
  over_budget_approved: z.boolean().default(false),
});
export type TaskAssignment = z.infer<typeof taskAssignmentSchema>;

export const taskResultSchema = z.object({
  task_id: z.string().min(1),
  assignment_id: z.string().min(1),
  agent_id: z.string().min(1),
  agent_role: role,
  task_type: z.string().min(1),
  status: z.enum(OUTCOMES),
  output: z.string().nullable(),
  error: z.string().nullable().default(null),
  started_at: z.number().int().nullable().default(null),
  duration_ms: z.number().int().nonnegative(),
  tokens_used: z.number().int().nonnegative(),
  input_tokens: z.number().int().nonnegative().default(0),
  output_tokens: z.number().int().nonnegative().default(0),
  cost_microcents: z.number().int().nonnegative().default(0),
  cost_cents: z.number().nonnegative(),
  provider: z.string().default(''),
  model: z.string().default(''),
  fallbacks: z.array(z.object({ from: z.string(), to: z.string(), reason: z.string() })).default([]),
  budget_exceeded: z.boolean().default(false),
  deliveries: z.number().int().nonnegative().default(1),
  /** The call would pass the budget and the role's policy asks a person first. */
  needs_approval: z.boolean().default(false),
});
export type TaskResult = z.infer<typeof taskResultSchema>;

export const heartbeatSchema = z.object({
  agent_id: z.string().min(1),
  agent_role: role,
  status: z.enum(AGENT_STATUSES),
  current_load: z.number().min(0).max(1),
  last_task_completed_at: z.number().int().nullable().default(null),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/** Least to most severe: a trigger's `severity` is the least it reacts to. */
export const ALERT_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;

export const alertSchema = z.object({
  id: z.string(),
  severity: z.enum(ALERT_SEVERITIES),
  source: z.string(),
  message: z.string(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type Alert = z.infer<typeof alertSchema>;

/** An approval asked for or decided, on `vapora.approvals.request` / `vapora.approvals.response`. */
export const approvalEventSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.string(),
  role: role,
  action: z.string(),
  task_id: z.string().nullable(),
  run_id: z.string().nullable(),
  step_id: z.string().nullable(),
  requested_by: z.string().nullable(),
  decided_by: z.string().nullable(),
  reason: z.string().nullable(),
  at: z.number().int(),
});
export type ApprovalEvent = z.infer<typeof approvalEventSchema>;

/** A task that could not be processed: after max_deliver, or terminated as malformed. */
export interface DeadLetter {
  role: Role;
  /** The original message, as received (it may not even be JSON). */
  data: Uint8Array;
  /** Parsed when possible. */
  assignment?: TaskAssignment | undefined;
  reason: string;
  deliveries: number;
}

/** One received message. Exactly one of ack/nak/term must be called. */
export interface Delivery {
  readonly data: Uint8Array;
  readonly subject: string;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  ack(): Promise<void>;
  /** Redeliver after `delayMs`. */
  nak(delayMs?: number): void;
  /** Never redeliver: the message is moved to the dead letters with this reason. */
  term(reason: string): Promise<void>;
  /** Still working: extends the ack deadline. */
  working(): void;
}

export interface Subscription {
  stop(): Promise<void>;
}

export interface PublishAck {
  duplicate: boolean;
}

/**
 * Work queues and events. Two implementations with the same behaviour: JetStream (a work-queue stream per role,
 * durable pull consumers, ack/nak/term, max_deliver → dead letters, Nats-Msg-Id dedup) and an in-process bus.
 */
export interface Bus {
  readonly kind: 'jetstream' | 'memory';
  /** How long a delivery may go without ack or `working()` before it is redelivered. */
  readonly ackWaitMs: number;
  /** Dedup id: the assignment id (a re-publish of the same assignment is dropped). */
  publishAssignment(a: TaskAssignment): Promise<PublishAck>;
  /** Dedup id: `result:<assignment>`. */
  publishResult(r: TaskResult): Promise<PublishAck>;
  publishHeartbeat(h: Heartbeat): Promise<void>;
  /** Dedup id: the alert's id (`budget:<role>:<period>:<level>`). */
  publishAlert(a: Alert): Promise<PublishAck>;
  /** Dedup id: `approval:<id>:<status>`. Requests go on vapora.approvals.request, decisions on .response. */
  publishApproval(e: ApprovalEvent): Promise<PublishAck>;
  /** The last result published for a task, if any (a redelivered task whose result exists is not run again). */
  lastResult(taskId: string): Promise<TaskResult | undefined>;
  /** An agent's queue; `handler` settles each delivery. At most `concurrency` in flight. */
  consumeAssignments(
    role: Role,
    agentId: string,
    handler: (d: Delivery) => Promise<void>,
    opts?: { concurrency?: number },
  ): Promise<Subscription>;
  consumeResults(handler: (d: Delivery) => Promise<void>): Promise<Subscription>;
  consumeHeartbeats(handler: (h: Heartbeat) => Promise<void> | void): Promise<Subscription>;
  consumeAlerts(handler: (a: Alert) => Promise<void> | void): Promise<Subscription>;
  /** Dead letters as they happen (for the coordinator: mark the task failed). */
  consumeDeadLetters(handler: (d: DeadLetter) => Promise<void>): Promise<Subscription>;
  close(): Promise<void>;
}

export function decodeJson(data: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(data));
}

export const encodeJson = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
