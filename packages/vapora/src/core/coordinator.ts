import { alertFromOutput } from './alerts.js';
import { type Bus, decodeJson, type Subscription, taskResultSchema } from './bus.js';
import type { VaporaService } from './service.js';

export interface CoordinatorOptions {
  /** How often the outbox is flushed. */
  dispatchMs?: number;
  /** How often stale agents are looked for. */
  sweepMs?: number;
  log?: (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) => void;
}

/**
 * The daemon's side of the bus: applies results (once per assignment), heartbeats and dead letters to the store,
 * publishes the outbox, and marks silent agents offline (reassigning their work).
 */
export class Coordinator {
  private subs: Subscription[] = [];
  private timers: NodeJS.Timeout[] = [];
  private busy = false;

  constructor(
    private readonly service: VaporaService,
    private readonly bus: Bus,
    private readonly o: CoordinatorOptions = {},
  ) {}

  async start(): Promise<void> {
    this.subs.push(
      await this.bus.consumeResults(async (d) => {
        let parsed: ReturnType<typeof taskResultSchema.safeParse>;
        try {
          parsed = taskResultSchema.safeParse(decodeJson(d.data));
        } catch {
          return d.term('malformed result: not JSON');
        }
        if (!parsed.success) return d.term('malformed result');
        try {
          const r = await this.service.applyResult(parsed.data);
          this.o.log?.('info', r.applied ? 'result applied' : 'result ignored (stale or duplicate)', {
            task: parsed.data.task_id,
            status: r.status,
          });
          await d.ack();
          // An agent's output may raise an alert (a monitor finding a service down): pipelines react to it.
          const alert = r.applied ? alertFromOutput(parsed.data, parsed.data.output) : undefined;
          if (alert)
            await this.service.alerts
              .raise(alert)
              .catch((e) => this.o.log?.('warn', 'cannot raise the alert', { error: (e as Error).message }));
        } catch (e) {
          this.o.log?.('warn', 'cannot apply result, will retry', { error: (e as Error).message });
          d.nak(1000);
        }
      }),
      await this.bus.consumeAlerts(async (a) => {
        const r = await this.service.alerts.handle(a);
        for (const run of r.runs.filter((x) => x.status === 'started'))
          this.o.log?.('info', 'pipeline started by an alert', { alert: a.id, ...run });
        for (const s of r.skipped)
          this.o.log?.('warn', 'alert matched a pipeline that cannot start', { alert: a.id, ...s });
      }),
      await this.bus.consumeHeartbeats((h) => this.service.applyHeartbeat(h)),
      await this.bus.consumeDeadLetters(async (dl) => {
        const applied = await this.service.applyDeadLetter(dl);
        this.o.log?.('warn', 'dead letter', {
          role: dl.role,
          reason: dl.reason,
          task: dl.assignment?.task_id,
          applied,
        });
      }),
    );
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => {
        if (this.busy) return;
        this.busy = true;
        fn()
          .catch((e) => this.o.log?.('warn', 'coordinator tick failed', { error: (e as Error).message }))
          .finally(() => {
            this.busy = false;
          });
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.dispatchMs ?? 1000, async () => {
      await this.service.dispatchPending();
      await this.service.pipelines.advanceActive();
    });
    every(this.o.sweepMs ?? 5000, async () => {
      const s = await this.service.sweepStale();
      if (s.offline.length) this.o.log?.('warn', 'agents offline (stale heartbeat)', { ...s });
      const expired = await this.service.approvals.expire();
      if (expired.length) this.o.log?.('warn', 'approvals timed out', { ids: expired.map((a) => a.id) });
      const charged = await this.service.ledger.reapOrphans();
      if (charged.length)
        this.o.log?.('warn', 'charged reservations of dead processes as unsettled', { ids: charged.map((c) => c.id) });
    });
    await this.service.dispatchPending();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const s of this.subs) await s.stop().catch(() => {});
    this.subs = [];
  }
}
