import type { FastifyInstance } from 'fastify';
import type { Metric, Registry } from 'prom-client';
import type { Logger } from './log.js';

export interface HttpServerOptions {
  /** Tool name, used as the metrics prefix (`svault_http_requests_total`). */
  name: string;
  logger?: Logger;
  /** Largest request body in bytes (fastify's default is 1 MiB). */
  bodyLimit?: number;
  /** Replaces fastify's answer to requests Node's HTTP parser rejects (400, 431...); `this` is the app. */
  clientErrorHandler?: (this: FastifyInstance, err: Error, socket: import('node:net').Socket) => void;
  /** Serve HTTPS with this PEM key and certificate. */
  https?: { key: string | Buffer; cert: string | Buffer } | undefined;
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
  const routes = new RouteMetrics(opts.name);
  // The registry reads a metric's name, type, get() (and reset()): plain objects will do.
  registry.registerMetric(routes.requestsMetric() as unknown as Metric);
  registry.registerMetric(routes.latencyMetric() as unknown as Metric);

  const app = fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    ...(opts.https ? { https: opts.https } : {}),
    ...(opts.clientErrorHandler ? { clientErrorHandler: opts.clientErrorHandler } : {}),
  });
  // A callback hook, not an async one: this runs on every request, a promise each is measurable.
  const debug = opts.logger?.isLevelEnabled('debug') ? opts.logger : undefined;
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    routes.observe(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
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

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

interface RouteStats {
  method: string;
  route: string;
  byStatus: Map<number, number>;
  /** Observations per bucket (not cumulative), the last one for +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * Request counts by method, route and status, and a latency histogram by method and route, in
 * prom-client's metric shape. Kept by hand rather than with prom-client's Counter and
 * Histogram, which hash a label object on every call: on a route that answers in 100 µs that
 * was ~5% of the request.
 */
class RouteMetrics {
  private readonly stats = new Map<string, RouteStats>();

  constructor(private readonly prefix: string) {}

  reset(): void {
    this.stats.clear();
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    let s = this.stats.get(key);
    if (!s) {
      s = {
        method,
        route,
        byStatus: new Map(),
        buckets: new Array(LATENCY_BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.stats.set(key, s);
    }
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[b] as number)) b++;
    (s.buckets[b] as number)++;
    s.sum += seconds;
    s.count++;
  }

  requestsMetric() {
    const name = `${this.prefix}_http_requests_total`;
    const help = 'HTTP requests by method, route and status code';
    return {
      name,
      help,
      type: 'counter' as const,
      aggregator: 'sum' as const,
      reset: () => this.reset(),
      get: async () => ({
        name,
        help,
        type: 'counter' as const,
        aggregator: 'sum' as const,
        values: [...this.stats.values()].flatMap((s) =>
          [...s.byStatus].map(([status, value]) => ({
            labels: { method: s.method, route: s.route, status_code: String(status) },
            value,
          })),
        ),
      }),
    };
  }

  latencyMetric() {
    const name = `${this.prefix}_http_request_duration_seconds`;
    const help = 'HTTP request latency by method and route';
    return {
      name,
      help,
      type: 'histogram' as const,
      aggregator: 'sum' as const,
      reset: () => this.reset(),
      get: async () => ({
        name,
        help,
        type: 'histogram' as const,
        aggregator: 'sum' as const,
        values: [...this.stats.values()].flatMap((s) => {
          const labels = { method: s.method, route: s.route };
          let cumulative = 0;
          const buckets = s.buckets.map((n, i) => {
            cumulative += n;
            const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf';
            return { metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative };
          });
          return [
            ...buckets,
            { metricName: `${name}_sum`, labels, value: s.sum },
            { metricName: `${name}_count`, labels, value: s.count },
          ];
        }),
      }),
    };
  }
}
