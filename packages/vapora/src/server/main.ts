import { createHttpServer } from '@stratumiops/shared/http';
import type { Logger } from '@stratumiops/shared/log';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { Coordinator } from '../core/coordinator.js';
import type { MetricsSink } from '../core/metrics.js';
import { Worker } from '../core/worker.js';
import { openRuntime, type Runtime } from '../runtime.js';
import type { VaporaConfig } from '../tool.js';
import { registerRoutes } from './http.js';
import { registerMetrics } from './metrics.js';

export interface ServeOptions {
  config: VaporaConfig;
  projectFile?: string | undefined;
  logger?: Logger | undefined;
  /** An app that already exists (the daemon's, on its unix socket); otherwise one is created. */
  app?: FastifyInstance;
  registry?: Registry;
  /** Listen on host:port (ignored with `app`). */
  host?: string;
  port?: number;
  coordinatorMs?: { dispatch?: number; sweep?: number };
}

export interface Served {
  runtime: Runtime;
  app: FastifyInstance;
  coordinator: Coordinator;
  address?: string;
  close(): Promise<void>;
}

/**
 * With the in-process bus nothing else can run the work: one worker per registered agent runs inside the
 * server (new agents are picked up within a second). With JetStream, workers are `vapora worker` processes.
 */
class LocalWorkers {
  private readonly workers = new Map<string, Worker>();
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly rt: Runtime,
    private readonly logger?: Logger,
  ) {}

  async start(): Promise<void> {
    await this.scan();
    this.timer = setInterval(() => void this.scan().catch(() => {}), 1000);
    this.timer.unref();
  }

  private async scan(): Promise<void> {
    for (const a of await this.rt.store.listAgents()) {
      if (this.workers.has(a.id) || !this.rt.bus) continue;
      const w = new Worker({
        bus: this.rt.bus,
        router: this.rt.router,
        agent: a,
        concurrency: a.capacity,
        nakDelayMs: this.rt.config.nats.nak_delay_ms,
        heartbeatMs: Math.max(1000, (this.rt.config.agents.heartbeat_timeout_s * 1000) / 3),
        log: (level, msg, data) => this.logger?.[level]({ agent: a.id, ...data }, msg),
      });
      this.workers.set(a.id, w);
      await w.start();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const w of this.workers.values()) await w.stop().catch(() => {});
  }
}

/** REST API, Prometheus metrics, the coordinator and (in-process bus) the local workers. */
export async function serve(o: ServeOptions): Promise<Served> {
  let app = o.app;
  let registry = o.registry;
  if (!app || !registry) {
    const h = await createHttpServer({ name: 'vapora', ...(o.logger ? { logger: o.logger } : {}) });
    app = h.app;
    registry = h.registry;
  }
  let rt: Runtime | undefined;
  const metrics: MetricsSink = await registerMetrics(registry, () => rt?.service);
  rt = await openRuntime({ config: o.config, projectFile: o.projectFile, bus: true, metrics });
  const runtime = rt;
  registerRoutes(app, runtime.service);
  const log = (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) =>
    o.logger?.[level](data ?? {}, msg);
  const coordinator = new Coordinator(runtime.service, runtime.bus!, {
    dispatchMs: o.coordinatorMs?.dispatch,
    sweepMs: o.coordinatorMs?.sweep,
    log,
  });
  const local = runtime.bus?.kind === 'memory' ? new LocalWorkers(runtime, o.logger) : undefined;
  await coordinator.start();
  await local?.start();
  let address: string | undefined;
  if (!o.app)
    address = await app.listen({ host: o.host ?? o.config.server.host, port: o.port ?? o.config.server.port });
  const served: Served = {
    runtime,
    app,
    coordinator,
    ...(address ? { address } : {}),
    close: async () => {
      await local?.stop();
      await coordinator.stop();
      if (!o.app) await app.close();
      await runtime.close();
    },
  };
  return served;
}
