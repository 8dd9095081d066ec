import {
  type Alert,
  type ApprovalEvent,
  assignSubject,
  type Bus,
  type DeadLetter,
  type Delivery,
  decodeJson,
  encodeJson,
  type Heartbeat,
  type PublishAck,
  resultSubject,
  type Subscription,
  type TaskAssignment,
  type TaskResult,
  taskAssignmentSchema,
} from '../core/bus.js';
import type { Role } from '../core/roles.js';

export interface MemoryBusOptions {
  ackWaitMs?: number;
  maxDeliver?: number;
  duplicateWindowMs?: number;
}

interface Msg {
  subject: string;
  data: Uint8Array;
  deliveries: number;
  availableAt: number;
}

interface Queue {
  role: Role;
  pending: Msg[];
  handlers: { fn: (d: Delivery) => Promise<void>; limit: number; inFlight: number }[];
  timer?: NodeJS.Timeout | undefined;
}

/**
 * The in-process bus (no NATS configured): the same semantics as the JetStream one, in memory: per-agent queues,
 * ack deadline and redelivery, nak with delay, term, max_deliver → dead letters, publish dedup by id.
 * Nothing survives the process: `vapora serve` re-dispatches unfinished assignments from the store's outbox.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly ackWaitMs: number;
  private readonly maxDeliver: number;
  private readonly window: number;
  private readonly seen = new Map<string, number>();
  private readonly queues = new Map<string, Queue>();
  private readonly results: TaskResult[] = [];
  private readonly lastByTask = new Map<string, TaskResult>();
  private resultHandlers: ((d: Delivery) => Promise<void>)[] = [];
  private readonly heartbeatHandlers = new Set<(h: Heartbeat) => Promise<void> | void>();
  private readonly alertHandlers = new Set<(a: Alert) => Promise<void> | void>();
  private readonly deadHandlers = new Set<(d: DeadLetter) => Promise<void>>();
  readonly dead: DeadLetter[] = [];
  readonly alerts: Alert[] = [];
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(o: MemoryBusOptions = {}) {
    this.ackWaitMs = o.ackWaitMs ?? 30_000;
    this.maxDeliver = o.maxDeliver ?? 5;
    this.window = o.duplicateWindowMs ?? 120_000;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
  }

  private duplicate(id: string): boolean {
    const now = Date.now();
    for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
    if (this.seen.has(id)) return true;
    this.seen.set(id, now + this.window);
    return false;
  }

  private queue(role: Role, agentId: string): Queue {
    const key = assignSubject(role, agentId);
    let q = this.queues.get(key);
    if (!q) {
      q = { role, pending: [], handlers: [] };
      this.queues.set(key, q);
    }
    return q;
  }

  async publishAssignment(a: TaskAssignment): Promise<PublishAck> {
    if (this.duplicate(a.assignment_id)) return { duplicate: true };
    this.enqueue(a.agent_role, a.agent_id, encodeJson(a));
    return { duplicate: false };
  }

  /** For tests: a raw (possibly malformed) message on an agent's queue. */
  enqueue(role: Role, agentId: string, data: Uint8Array): void {
    const q = this.queue(role, agentId);
    q.pending.push({ subject: assignSubject(role, agentId), data, deliveries: 0, availableAt: 0 });
    this.pump(q);
  }

  private pump(q: Queue): void {
    if (this.closed) return;
    const now = Date.now();
    for (const h of q.handlers) {
      while (h.inFlight < h.limit) {
        const i = q.pending.findIndex((m) => m.availableAt <= now);
        if (i < 0) break;
        const [m] = q.pending.splice(i, 1) as [Msg];
        this.deliver(q, h, m);
      }
    }
    const next = q.pending.reduce((min, m) => Math.min(min, m.availableAt), Number.POSITIVE_INFINITY);
    if (Number.isFinite(next) && next > now && q.handlers.length > 0) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = setTimeout(() => this.pump(q), next - now);
      this.timers.add(q.timer);
    }
  }

  private deliver(q: Queue, h: Queue['handlers'][number], m: Msg): void {
    m.deliveries++;
    h.inFlight++;
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const settle = () => {
      if (settled) return false;
      settled = true;
      if (deadline) {
        clearTimeout(deadline);
        this.timers.delete(deadline);
      }
      h.inFlight--;
      return true;
    };
    const retry = (delay: number, reason: string) => {
      if (m.deliveries >= this.maxDeliver) {
        void this.toDead(q.role, m, `${reason}: max_deliver (${this.maxDeliver}) reached`);
      } else {
        m.availableAt = Date.now() + delay;
        q.pending.push(m);
      }
      this.pump(q);
    };
    const arm = () => {
      if (deadline) {
        clearTimeout(deadline);
        this.timers.delete(deadline);
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.closed && settle()) retry(0, 'ack deadline passed');
      }, this.ackWaitMs);
      this.timers.add(t);
      deadline = t;
    };
    arm();
    const d: Delivery = {
      data: m.data,
      subject: m.subject,
      deliveryCount: m.deliveries,
      ack: async () => {
        if (settle()) this.pump(q);
      },
      nak: (delayMs = 0) => {
        if (settle()) retry(delayMs, 'nak');
      },
      term: async (reason) => {
        if (settle()) {
          await this.toDead(q.role, m, reason);
          this.pump(q);
        }
      },
      working: () => {
        if (!settled) arm();
      },
    };
    // A handler that throws is a worker that died mid-task: the ack deadline redelivers it.
    h.fn(d).catch(() => {});
  }

  private async toDead(role: Role, m: Msg, reason: string): Promise<void> {
    let assignment: TaskAssignment | undefined;
    try {
      const p = taskAssignmentSchema.safeParse(decodeJson(m.data));
      if (p.success) assignment = p.data;
    } catch {}
    const dl: DeadLetter = { role, data: m.data, assignment, reason, deliveries: m.deliveries };
    this.dead.push(dl);
    for (const h of this.deadHandlers) await h(dl).catch(() => {});
  }

  async publishResult(r: TaskResult): Promise<PublishAck> {
    if (this.duplicate(`result:${r.assignment_id}`)) return { duplicate: true };
    this.lastByTask.set(r.task_id, r);
    this.results.push(r);
    this.flushResults();
    return { duplicate: false };
  }

  private flushResults(): void {
    const handler = this.resultHandlers[0];
    if (!handler) return;
    while (this.results.length > 0) {
      const r = this.results.shift() as TaskResult;
      const data = encodeJson(r);
      let deliveries = 0;
      const attempt = () => {
        deliveries++;
        let done = false;
        void handler({
          data,
          subject: resultSubject(r.task_id),
          deliveryCount: deliveries,
          ack: async () => {
            done = true;
          },
          nak: (delay = 0) => {
            if (!done && deliveries < this.maxDeliver) this.later(delay, attempt);
            done = true;
          },
          term: async () => {
            done = true;
          },
          working: () => {},
        }).catch(() => {
          if (!done && deliveries < this.maxDeliver) this.later(100, attempt);
        });
      };
      attempt();
    }
  }

  async publishHeartbeat(h: Heartbeat): Promise<void> {
    for (const fn of this.heartbeatHandlers) await fn(h);
  }

  async publishAlert(a: Alert): Promise<PublishAck> {
    if (this.duplicate(a.id)) return { duplicate: true };
    this.alerts.push(a);
    for (const fn of this.alertHandlers) await fn(a);
    return { duplicate: false };
  }

  readonly approvals: ApprovalEvent[] = [];

  async publishApproval(e: ApprovalEvent): Promise<PublishAck> {
    if (this.duplicate(`approval:${e.id}:${e.status}`)) return { duplicate: true };
    this.approvals.push(e);
    return { duplicate: false };
  }

  async lastResult(taskId: string): Promise<TaskResult | undefined> {
    return this.lastByTask.get(taskId);
  }

  async consumeAssignments(
    role: Role,
    agentId: string,
    handler: (d: Delivery) => Promise<void>,
    opts: { concurrency?: number } = {},
  ): Promise<Subscription> {
    const q = this.queue(role, agentId);
    const h = { fn: handler, limit: opts.concurrency ?? 1, inFlight: 0 };
    q.handlers.push(h);
    this.pump(q);
    return {
      stop: async () => {
        q.handlers = q.handlers.filter((x) => x !== h);
      },
    };
  }

  async consumeResults(handler: (d: Delivery) => Promise<void>): Promise<Subscription> {
    this.resultHandlers.push(handler);
    this.flushResults();
    return {
      stop: async () => {
        this.resultHandlers = this.resultHandlers.filter((x) => x !== handler);
      },
    };
  }

  async consumeHeartbeats(handler: (h: Heartbeat) => Promise<void> | void): Promise<Subscription> {
    this.heartbeatHandlers.add(handler);
    return { stop: async () => void this.heartbeatHandlers.delete(handler) };
  }

  async consumeAlerts(handler: (a: Alert) => Promise<void> | void): Promise<Subscription> {
    this.alertHandlers.add(handler);
    return { stop: async () => void this.alertHandlers.delete(handler) };
  }

  async consumeDeadLetters(handler: (d: DeadLetter) => Promise<void>): Promise<Subscription> {
    this.deadHandlers.add(handler);
    return { stop: async () => void this.deadHandlers.delete(handler) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const q of this.queues.values()) if (q.timer) clearTimeout(q.timer);
  }
}
