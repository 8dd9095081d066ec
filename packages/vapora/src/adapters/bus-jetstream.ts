import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection, nanos } from '@nats-io/transport-node';
import {
  type Alert,
  type ApprovalEvent,
  alertSchema,
  assignSubject,
  type Bus,
  type DeadLetter,
  type Delivery,
  deadSubject,
  decodeJson,
  encodeJson,
  type Heartbeat,
  heartbeatSchema,
  type PublishAck,
  resultSubject,
  SUBJECTS,
  type Subscription,
  type TaskAssignment,
  type TaskResult,
  taskAssignmentSchema,
  taskResultSchema,
} from '../core/bus.js';
import { ROLES, type Role } from '../core/roles.js';

export interface JetStreamBusOptions {
  url: string;
  name?: string;
  ackWaitMs?: number;
  maxDeliver?: number;
  duplicateWindowMs?: number;
  /** How long results and alerts are kept (the dedup lookup of redelivered tasks reads them). */
  retentionMs?: number;
}

const DAY = 24 * 3600 * 1000;
export const taskStream = (role: Role) => `VAPORA_TASKS_${role.toUpperCase().replaceAll('-', '_')}`;
export const RESULTS_STREAM = 'VAPORA_RESULTS';
export const ALERTS_STREAM = 'VAPORA_ALERTS';
const APPROVALS_STREAM = 'VAPORA_APPROVALS';
export const DLQ_STREAM = 'VAPORA_DLQ';
export const ADVISORY_STREAM = 'VAPORA_ADVISORIES';
const ADVISORY_SUBJECT = '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES';
export const agentConsumer = (agentId: string) => `agent_${agentId}`;

const roleOfStream = (stream: string): Role | undefined => ROLES.find((r) => taskStream(r) === stream);

/**
 * NATS JetStream (notes §3, checked on nats-server 2.9):
 * - a work-queue stream per role (`VAPORA_TASKS_DEVOPS` on `vapora.tasks.assign.devops.*`), one durable pull
 *   consumer per agent filtered to `vapora.tasks.assign.<role>.<agent>` (work-queue filters must not overlap);
 * - ack / nak with delay / term / working; publish dedup with Nats-Msg-Id inside duplicate_window;
 * - max_deliver: the server's MAX_DELIVERIES advisory is captured by a stream (so none is lost while the
 *   coordinator is down); the coordinator copies the message to `vapora.tasks.dead.<role>` and deletes it from the
 *   work queue, where it would otherwise stay;
 * - results in a limits stream keyed by task (`vapora.tasks.results.<task>`): a redelivered task whose result was
 *   already published is acked without running again;
 * - heartbeats on core NATS (losing one is harmless), alerts in a stream with their dedup id.
 */
export class JetStreamBus implements Bus {
  readonly kind = 'jetstream' as const;
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly subs = new Set<Subscription>();

  get ackWaitMs(): number {
    return this.o.ackWaitMs;
  }

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly o: Required<Omit<JetStreamBusOptions, 'name'>>,
  ) {}

  static async connect(o: JetStreamBusOptions): Promise<JetStreamBus> {
    const servers = o.url.replace(/^nats:\/\//, '');
    const nc = await connect({ servers, name: o.name ?? 'vapora', maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    const bus = new JetStreamBus(nc, jetstream(nc), jsm, {
      url: o.url,
      ackWaitMs: o.ackWaitMs ?? 30_000,
      maxDeliver: o.maxDeliver ?? 5,
      duplicateWindowMs: o.duplicateWindowMs ?? 120_000,
      retentionMs: o.retentionMs ?? 7 * DAY,
    });
    await Promise.all([
      bus.stream(RESULTS_STREAM, [`${SUBJECTS.taskResults}.*`], RetentionPolicy.Limits, true),
      bus.stream(ALERTS_STREAM, [SUBJECTS.alerts], RetentionPolicy.Limits, true),
      bus.stream(
        APPROVALS_STREAM,
        [SUBJECTS.approvalsRequest, SUBJECTS.approvalsResponse],
        RetentionPolicy.Limits,
        true,
      ),
      bus.stream(DLQ_STREAM, [`${SUBJECTS.deadLetters}.*`], RetentionPolicy.Limits, true),
      // `*` wildcards are whole tokens: every stream's advisories, the mover keeps vapora's.
      bus.stream(ADVISORY_STREAM, [`${ADVISORY_SUBJECT}.*.*`], RetentionPolicy.Limits, false),
    ]);
    return bus;
  }

  /** Creates a stream once per process; an existing one with another config is updated. */
  private stream(name: string, subjects: string[], retention: RetentionPolicy, dedup: boolean): Promise<void> {
    let p = this.ensured.get(name);
    if (!p) {
      const cfg: Partial<StreamConfig> & { name: string } = {
        name,
        subjects,
        retention,
        storage: StorageType.File,
        ...(dedup ? { duplicate_window: nanos(this.o.duplicateWindowMs) } : {}),
        ...(retention === RetentionPolicy.Limits ? { max_age: nanos(this.o.retentionMs) } : {}),
      };
      p = this.jsm.streams.add(cfg).then(
        () => {},
        async () => {
          await this.jsm.streams.update(name, cfg);
        },
      );
      p.catch(() => this.ensured.delete(name));
      this.ensured.set(name, p);
    }
    return p;
  }

  private roleStream(role: Role): Promise<void> {
    return this.stream(taskStream(role), [`${SUBJECTS.taskAssignment}.${role}.*`], RetentionPolicy.Workqueue, true);
  }

  private async consumer(stream: string, name: string, cfg: Partial<ConsumerConfig>): Promise<void> {
    const full: Partial<ConsumerConfig> = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...cfg,
    };
    try {
      await this.jsm.consumers.add(stream, full);
    } catch {
      const { durable_name: _d, deliver_policy: _p, ...rest } = full;
      await this.jsm.consumers.update(stream, name, rest);
    }
  }

  async publishAssignment(a: TaskAssignment): Promise<PublishAck> {
    await this.roleStream(a.agent_role);
    const h = headers();
    h.set('Vapora-Task-Id', a.task_id);
    const pa = await this.js.publish(assignSubject(a.agent_role, a.agent_id), encodeJson(a), {
      msgID: a.assignment_id,
      headers: h,
    });
    return { duplicate: pa.duplicate };
  }

  async publishResult(r: TaskResult): Promise<PublishAck> {
    const pa = await this.js.publish(resultSubject(r.task_id), encodeJson(r), { msgID: `result:${r.assignment_id}` });
    return { duplicate: pa.duplicate };
  }

  async publishHeartbeat(h: Heartbeat): Promise<void> {
    this.nc.publish(SUBJECTS.agentHeartbeat, encodeJson(h));
  }

  async publishAlert(a: Alert): Promise<PublishAck> {
    const pa = await this.js.publish(SUBJECTS.alerts, encodeJson(a), { msgID: a.id });
    return { duplicate: pa.duplicate };
  }

  async publishApproval(e: ApprovalEvent): Promise<PublishAck> {
    const subject = e.status === 'pending' ? SUBJECTS.approvalsRequest : SUBJECTS.approvalsResponse;
    const pa = await this.js.publish(subject, encodeJson(e), { msgID: `approval:${e.id}:${e.status}` });
    return { duplicate: pa.duplicate };
  }

  async lastResult(taskId: string): Promise<TaskResult | undefined> {
    try {
      const m = await this.jsm.streams.getMessage(RESULTS_STREAM, { last_by_subj: resultSubject(taskId) });
      if (!m) return undefined;
      const p = taskResultSchema.safeParse(decodeJson(m.data));
      return p.success ? p.data : undefined;
    } catch {
      return undefined;
    }
  }

  private delivery(m: JsMsg, role: Role | undefined): Delivery {
    return {
      data: m.data,
      subject: m.subject,
      deliveryCount: m.info.deliveryCount,
      // A lost ack only means a redelivery, which the worker recognises (its result is already published).
      ack: async () => m.ack(),
      nak: (delayMs) => m.nak(delayMs),
      term: async (reason) => {
        if (role) await this.deadLetter(role, m.data, reason, m.info.deliveryCount, `term:${m.info.stream}:${m.seq}`);
        m.term(reason);
        // A work-queue stream keeps a terminated message until it is deleted.
        await this.jsm.streams.deleteMessage(m.info.stream, m.seq, false).catch(() => false);
      },
      working: () => m.working(),
    };
  }

  private async deadLetter(
    role: Role,
    data: Uint8Array,
    reason: string,
    deliveries: number,
    id: string,
  ): Promise<void> {
    const h = headers();
    h.set('Vapora-Reason', reason.slice(0, 500));
    h.set('Vapora-Deliveries', String(deliveries));
    await this.js.publish(deadSubject(role), data, { msgID: `dead:${id}`, headers: h });
  }

  private async run(msgs: ConsumerMessages, concurrency: number, fn: (m: JsMsg) => Promise<void>): Promise<void> {
    const inflight = new Set<Promise<void>>();
    for await (const m of msgs) {
      const p: Promise<void> = fn(m)
        .catch(() => {})
        .finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= concurrency) await Promise.race(inflight);
    }
    await Promise.allSettled(inflight);
  }

  private track(msgs: ConsumerMessages, done: Promise<void>): Subscription {
    const sub: Subscription = {
      stop: async () => {
        this.subs.delete(sub);
        await msgs.close().catch(() => {});
        await done;
      },
    };
    this.subs.add(sub);
    return sub;
  }

  async consumeAssignments(
    role: Role,
    agentId: string,
    handler: (d: Delivery) => Promise<void>,
    opts: { concurrency?: number } = {},
  ): Promise<Subscription> {
    await this.roleStream(role);
    const stream = taskStream(role);
    const name = agentConsumer(agentId);
    await this.consumer(stream, name, {
      filter_subject: assignSubject(role, agentId),
      ack_wait: nanos(this.o.ackWaitMs),
      max_deliver: this.o.maxDeliver,
    });
    const concurrency = opts.concurrency ?? 1;
    const c = await this.js.consumers.get(stream, name);
    const msgs = await c.consume({ max_messages: concurrency });
    const done = this.run(msgs, concurrency, (m) => handler(this.delivery(m, role)));
    return this.track(msgs, done);
  }

  async consumeResults(handler: (d: Delivery) => Promise<void>): Promise<Subscription> {
    await this.consumer(RESULTS_STREAM, 'coordinator', { ack_wait: nanos(30_000), max_deliver: 10 });
    const c = await this.js.consumers.get(RESULTS_STREAM, 'coordinator');
    const msgs = await c.consume({ max_messages: 64 });
    const done = this.run(msgs, 16, (m) => handler(this.delivery(m, undefined)));
    return this.track(msgs, done);
  }

  async consumeHeartbeats(handler: (h: Heartbeat) => Promise<void> | void): Promise<Subscription> {
    const sub = this.nc.subscribe(SUBJECTS.agentHeartbeat, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const p = heartbeatSchema.safeParse(decodeJson(msg.data));
          if (p.success) void Promise.resolve(handler(p.data)).catch(() => {});
        } catch {}
      },
    });
    return { stop: async () => sub.unsubscribe() };
  }

  async consumeAlerts(handler: (a: Alert) => Promise<void> | void): Promise<Subscription> {
    const sub = this.nc.subscribe(SUBJECTS.alerts, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const p = alertSchema.safeParse(decodeJson(msg.data));
          if (p.success) void Promise.resolve(handler(p.data)).catch(() => {});
        } catch {}
      },
    });
    return { stop: async () => sub.unsubscribe() };
  }

  /**
   * Runs the advisory mover (max_deliver → dead letters) and hands every dead letter to `handler`.
   * Both consumers are durable: advisories and dead letters that arrive while nobody listens wait.
   */
  async consumeDeadLetters(handler: (d: DeadLetter) => Promise<void>): Promise<Subscription> {
    await this.consumer(ADVISORY_STREAM, 'dlq_mover', { ack_wait: nanos(30_000), max_deliver: 20 });
    await this.consumer(DLQ_STREAM, 'coordinator', { ack_wait: nanos(30_000), max_deliver: 10 });
    const adv = await (await this.js.consumers.get(ADVISORY_STREAM, 'dlq_mover')).consume({ max_messages: 16 });
    const advDone = this.run(adv, 1, async (m) => {
      await this.moveToDead(m);
      m.ack();
    });
    const dlq = await (await this.js.consumers.get(DLQ_STREAM, 'coordinator')).consume({ max_messages: 16 });
    const dlqDone = this.run(dlq, 1, async (m) => {
      const role = m.subject.slice(SUBJECTS.deadLetters.length + 1) as Role;
      let assignment: TaskAssignment | undefined;
      try {
        const p = taskAssignmentSchema.safeParse(decodeJson(m.data));
        if (p.success) assignment = p.data;
      } catch {}
      try {
        await handler({
          role,
          data: m.data,
          assignment,
          reason: m.headers?.get('Vapora-Reason') || 'dead letter',
          deliveries: Number(m.headers?.get('Vapora-Deliveries') || 0),
        });
        m.ack();
      } catch {
        m.nak(1000);
      }
    });
    const sub: Subscription = {
      stop: async () => {
        this.subs.delete(sub);
        await adv.close().catch(() => {});
        await dlq.close().catch(() => {});
        await Promise.all([advDone, dlqDone]);
      },
    };
    this.subs.add(sub);
    return sub;
  }

  private async moveToDead(m: JsMsg): Promise<void> {
    let a: { stream?: string; consumer?: string; stream_seq?: number; deliveries?: number };
    try {
      a = decodeJson(m.data) as typeof a;
    } catch {
      return;
    }
    const role = a.stream ? roleOfStream(a.stream) : undefined;
    if (!role || !a.stream || typeof a.stream_seq !== 'number') return;
    const stored = await this.jsm.streams.getMessage(a.stream, { seq: a.stream_seq }).catch(() => null);
    if (!stored) return; // acked in the meantime, or already moved
    await this.deadLetter(
      role,
      stored.data,
      `max_deliver (${a.deliveries ?? '?'} deliveries) reached`,
      a.deliveries ?? 0,
      `${a.stream}:${a.stream_seq}`,
    );
    await this.jsm.streams.deleteMessage(a.stream, a.stream_seq, false).catch(() => false);
  }

  async close(): Promise<void> {
    for (const s of [...this.subs]) await s.stop().catch(() => {});
    await this.nc.drain().catch(() => {});
  }
}
