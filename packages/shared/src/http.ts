import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from './log.js';

export interface HttpServerOptions {
  /** Tool name, used as the metrics prefix (`svault_http_requests_total`). */
  name: string;
  logger?: Logger;
  /** Largest request body in bytes (fastify's default is 1 MiB). */
  bodyLimit?: number;
}

export interface HttpServer {
  app: FastifyInstance;
  registry: Registry;
}

/**
 * A fastify app with Prometheus metrics at /metrics (default process metrics plus
 * request counts and latencies by route). fastify and prom-client load on demand,
 * so commands that never serve HTTP never pay for them.
 */
export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const [{ default: fastify }, prom] = await Promise.all([import('fastify'), import('prom-client')]);
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: `${opts.name}_` });
  const requests = new prom.Counter({
    name: `${opts.name}_http_requests_total`,
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    registers: [registry],
  });
  const latency = new prom.Histogram({
    name: `${opts.name}_http_request_duration_seconds`,
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });

  const app = fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
  });
  // A callback hook, not an async one: this runs on every request, a promise each is measurable.
  const debug = opts.logger?.isLevelEnabled('debug') ? opts.logger : undefined;
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status_code: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    debug?.debug({ method: req.method, url: route, status: reply.statusCode }, 'request');
    done();
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return { app, registry };
}

/**
 * Closes the app on SIGTERM/SIGINT: stop accepting, let in-flight requests finish
 * (up to `timeoutMs`), run `onClose`, then exit 0.
 */
export function installGracefulShutdown(
  app: FastifyInstance,
  opts: { timeoutMs?: number; onClose?: () => Promise<void> | void; logger?: Logger } = {},
): void {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    opts.logger?.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      opts.logger?.warn('graceful shutdown timed out; exiting');
      process.exit(1);
    }, opts.timeoutMs ?? 10_000);
    timer.unref();
    try {
      await app.close();
      await opts.onClose?.();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
