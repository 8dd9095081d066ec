import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { usageError, validationError } from '@stratumiops/shared/errors';
import { createHttpServer } from '@stratumiops/shared/http';
import type { Logger } from '@stratumiops/shared/log';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { PolicySet } from '../core/auth.js';
import { Coordinator } from '../core/coordinator.js';
import type { MetricsSink } from '../core/metrics.js';
import { Worker } from '../core/worker.js';
import { openRuntime, policyFile, type Runtime } from '../runtime.js';
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
  /** Listen beyond loopback without TLS (a decision the user made with --insecure). */
  insecure?: boolean;
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

export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Refuses to expose tokens and task data in clear text beyond this machine, unless told to. */
export function checkExposure(host: string, tls: boolean, insecure: boolean): void {
  if (isLoopback(host) || tls || insecure) return;
  throw usageError(`refusing to listen on ${host} without TLS: tokens and task data would cross the network in clear`, {
    hint: 'set [server] tls_cert and tls_key, or pass --insecure (e.g. behind a TLS-terminating proxy)',
  });
}

function readPem(file: string, what: string, base: string): Buffer {
  try {
    return readFileSync(isAbsolute(file) ? file : resolve(base, file));
  } catch (e) {
    throw validationError(`cannot read [server] ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

/** REST API, Prometheus metrics, the coordinator and (in-process bus) the local workers. */
export async function serve(o: ServeOptions): Promise<Served> {
  const host = o.host ?? o.config.server.host;
  const { tls_cert, tls_key } = o.config.server;
  if (!o.app) checkExposure(host, Boolean(tls_cert), o.insecure === true);
  if (Boolean(tls_cert) !== Boolean(tls_key)) throw validationError('[server] tls_cert and tls_key go together');
  const base = o.projectFile ? dirname(o.projectFile) : process.cwd();
  const https = tls_cert
    ? { cert: readPem(tls_cert, 'tls_cert', base), key: readPem(tls_key, 'tls_key', base) }
    : undefined;
  let app = o.app;
  let registry = o.registry;
  if (!app || !registry) {
    const h = await createHttpServer({ name: 'vapora', ...(o.logger ? { logger: o.logger } : {}), https });
    app = h.app;
    registry = h.registry;
  }
  let rt: Runtime | undefined;
  const metrics: MetricsSink = await registerMetrics(registry, () => rt?.service);
  rt = await openRuntime({ config: o.config, projectFile: o.projectFile, bus: true, metrics });
  const runtime = rt;
  const policy = await PolicySet.open(policyFile(o.config, o.projectFile));
  registerRoutes(app, {
    svc: runtime.service,
    policy,
    // The daemon's socket is the owner's only (0600); a TCP port is everyone's on that network.
    metricsOpen: o.config.server.metrics_public || Boolean(o.app) || isLoopback(host),
    allowExecAgents: o.config.server.allow_exec_agents_over_api,
  });
  // Reservations of processes that died (this server's previous life among them) are charged, not forgotten.
  await runtime.ledger.reapOrphans();
  // An in-process bus lost its messages with its process: what was dispatched and not finished goes again.
  if (runtime.bus?.kind === 'memory') await runtime.store.requeueDispatched();
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
  if (!o.app) address = await app.listen({ host, port: o.port ?? o.config.server.port });
  const served: Served = {
    runtime,
    app,
    coordinator,
    ...(address ? { address } : {}),
    close: async () => {
      await local?.stop();
      await coordinator.stop();
      if (!o.app) await app.close();
      policy.close();
      await runtime.close();
    },
  };
  return served;
}
