import { agentRoute } from './agents.js';
import type { Bus, Delivery, Subscription, TaskAssignment, TaskResult } from './bus.js';
import { decodeJson, taskAssignmentSchema } from './bus.js';
import { LlmError } from './llm/types.js';
import { describeZodError, microToCents, type Outcome } from './model.js';
import type { Role } from './roles.js';
import { BudgetExceededError, type LlmRouter, type RoutedResponse } from './router.js';

export interface WorkerOptions {
  bus: Bus;
  router: LlmRouter;
  agent: { id: string; role: Role; provider: string; model: string };
  concurrency?: number;
  /** Heartbeat period. */
  heartbeatMs?: number;
  /** How often a long task tells the bus it is still working (under the ack deadline). */
  workingMs?: number;
  /** Delay before a failed delivery is tried again, multiplied by the delivery count. */
  nakDelayMs?: number;
  now?: () => number;
  log?: (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) => void;
}

export interface WorkerStats {
  completed: number;
  failed: number;
  skipped: number;
  retried: number;
  terminated: number;
}

/**
 * Takes the agent's assignments from the bus, runs each through the router (LLM) or the agent's command (exec),
 * publishes the result, and only then acks. At-least-once: a worker killed mid-task never acks, the bus
 * redelivers after the ack deadline, and a redelivered task whose result is already published is acked without
 * running again; results are also applied once per assignment by the coordinator.
 *
 * - malformed message, or a task the command cannot even start on (invalid request) → term: dead letters;
 * - auth / content policy / budget refusal → a failed result (the task is done, badly), ack;
 * - anything transient (rate limits, 5xx, timeouts after the router's retries and fallbacks) → nak with delay,
 *   until max_deliver moves it to the dead letters.
 */
export class Worker {
  readonly stats: WorkerStats = { completed: 0, failed: 0, skipped: 0, retried: 0, terminated: 0 };
  private sub: Subscription | undefined;
  private beat: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** Tasks running here now: a second delivery of one (a redelivery racing the first) is not run twice. */
  private readonly running = new Set<string>();
  private lastCompleted: number | null = null;
  private readonly now: () => number;
  private readonly concurrency: number;

  constructor(private readonly o: WorkerOptions) {
    this.now = o.now ?? Date.now;
    this.concurrency = o.concurrency ?? 1;
  }

  async start(): Promise<void> {
    this.sub = await this.o.bus.consumeAssignments(this.o.agent.role, this.o.agent.id, (d) => this.handle(d), {
      concurrency: this.concurrency,
    });
    await this.heartbeat();
    this.beat = setInterval(() => void this.heartbeat().catch(() => {}), this.o.heartbeatMs ?? 10_000);
    this.beat.unref();
  }

  private heartbeat(status?: 'ready' | 'busy' | 'offline'): Promise<void> {
    return this.o.bus.publishHeartbeat({
      agent_id: this.o.agent.id,
      agent_role: this.o.agent.role,
      status: status ?? (this.inFlight >= this.concurrency ? 'busy' : 'ready'),
      current_load: Math.min(1, this.inFlight / this.concurrency),
      last_task_completed_at: this.lastCompleted,
    });
  }

  async stop(): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    await this.sub?.stop();
    await this.heartbeat('offline').catch(() => {});
  }

  async handle(d: Delivery): Promise<void> {
    let raw: unknown;
    try {
      raw = decodeJson(d.data);
    } catch {
      this.stats.terminated++;
      return d.term('malformed assignment: not JSON');
    }
    const parsed = taskAssignmentSchema.safeParse(raw);
    if (!parsed.success) {
      this.stats.terminated++;
      return d.term(`malformed assignment: ${describeZodError(parsed.error)}`);
    }
    const a = parsed.data;
    // Only a redelivery can have a result already (its worker died between publishing and acking).
    const done = d.deliveryCount > 1 ? await this.o.bus.lastResult(a.task_id) : undefined;
    if (done && done.assignment_id === a.assignment_id) {
      this.stats.skipped++;
      return d.ack(); // finished before a crash lost the ack: never run twice
    }
    if (this.running.has(a.task_id)) {
      this.stats.skipped++;
      return d.ack(); // the run in progress publishes the result
    }
    this.running.add(a.task_id);
    this.inFlight++;
    // Well inside the ack deadline: a long call is never redelivered while this worker lives.
    const keepAlive = setInterval(() => d.working(), this.o.workingMs ?? Math.max(100, this.o.bus.ackWaitMs / 3));
    const started = this.now();
    try {
      let res: RoutedResponse;
      try {
        res = await this.run(a);
      } catch (e) {
        if (
          e instanceof BudgetExceededError ||
          (e instanceof LlmError && (e.kind === 'auth' || e.kind === 'content_policy'))
        ) {
          // A budget refusal says nothing about the agent: it does not count against its expertise.
          const outcome: Outcome = e instanceof BudgetExceededError ? 'refused' : 'failure';
          const r = this.result(a, started, d, outcome, null, (e as Error).message);
          // The role's policy at 100% is to ask a person: the task waits for that approval instead of failing.
          r.needs_approval = e instanceof BudgetExceededError && e.decision.blocked === 'approval';
          await this.o.bus.publishResult(r);
          this.stats.failed++;
          return await d.ack();
        }
        if (e instanceof LlmError && e.kind === 'invalid_request') {
          this.stats.terminated++;
          return await d.term(`cannot run: ${e.message}`);
        }
        this.stats.retried++;
        this.o.log?.('warn', 'task failed, will be redelivered', {
          task: a.task_id,
          delivery: d.deliveryCount,
          error: (e as Error).message,
        });
        return d.nak((this.o.nakDelayMs ?? 2000) * d.deliveryCount);
      }
      const outcome: Outcome = res.finishReason === 'error' ? 'failure' : 'success';
      await this.o.bus.publishResult(this.result(a, started, d, outcome, res));
      if (outcome === 'success') this.stats.completed++;
      else this.stats.failed++;
      this.lastCompleted = this.now();
      await d.ack();
    } finally {
      clearInterval(keepAlive);
      this.running.delete(a.task_id);
      this.inFlight--;
    }
  }

  private run(a: TaskAssignment): Promise<RoutedResponse> {
    const route = agentRoute({ id: a.agent_id, role: a.agent_role, provider: a.provider, model: a.model });
    const vars = {
      payload: a.payload,
      task: { id: a.task_id, type: a.task_type, title: a.title, description: a.description, priority: a.priority },
      agent: { id: a.agent_id, role: a.agent_role },
    };
    const prompt = [
      a.title,
      a.description,
      Object.keys(a.payload).length ? `Input (JSON):\n${JSON.stringify(a.payload, null, 2)}` : '',
    ]
      .filter(Boolean)
      .join('\n\n');
    return this.o.router.call(
      {
        role: a.agent_role,
        taskType: a.task_type,
        taskId: a.task_id,
        agentRoute: route,
        overBudgetApproved: a.over_budget_approved,
      },
      {
        system: `You are the ${a.agent_role} agent of an operations team. Task type: ${a.task_type}. Answer with the result only.`,
        messages: [{ role: 'user', content: prompt }],
        vars,
      },
    );
  }

  private result(
    a: TaskAssignment,
    started: number,
    d: Delivery,
    status: Outcome,
    res: RoutedResponse | null,
    error: string | null = null,
  ): TaskResult {
    const input = res ? res.usage.inputTokens + res.usage.cacheReadTokens + res.usage.cacheWriteTokens : 0;
    const output = res?.usage.outputTokens ?? 0;
    return {
      task_id: a.task_id,
      assignment_id: a.assignment_id,
      agent_id: a.agent_id,
      agent_role: a.agent_role,
      task_type: a.task_type,
      status,
      output: res?.text ?? null,
      error: error ?? (status === 'failure' ? failureReason(res) : null),
      started_at: started,
      duration_ms: Math.max(0, this.now() - started),
      tokens_used: input + output,
      input_tokens: input,
      output_tokens: output,
      cost_microcents: res?.costMicrocents ?? 0,
      cost_cents: microToCents(res?.costMicrocents ?? 0),
      provider: res?.target.provider ?? '',
      model: res?.model ?? '',
      fallbacks: res?.fallbacks ?? [],
      budget_exceeded: res?.decision.state === 'exceeded',
      deliveries: d.deliveryCount,
      needs_approval: false,
    };
  }
}

/** Why a call that answered ended in failure: how it finished, and the last line it printed (an exec agent's error). */
function failureReason(res: RoutedResponse | null): string {
  const last = res?.text?.trim().split('\n').at(-1)?.trim() ?? '';
  const how = res?.finishRaw ?? 'failure';
  return last ? `${how}: ${last.slice(0, 500)}` : how;
}
