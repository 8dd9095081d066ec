import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertAvailable, findNodeExporter, findPrometheus } from './availability.js';
import { getFreePort, LOOPBACK } from './ports.js';
import { READY_TIMEOUT_MS, startInTempDir, waitUntilReady } from './process.js';

export interface NodeExporterServer {
  /** host:port, as a Prometheus target is written. */
  target: string;
  /** http://127.0.0.1:PORT/metrics */
  url: string;
  host: string;
  port: number;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface PrometheusServer {
  /** http://127.0.0.1:PORT (API under /api/v1). */
  url: string;
  host: string;
  port: number;
  /** The prometheus.yml it was started with. */
  configPath: string;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port targets of the `node` job. */
  targets?: string[];
  /** A whole prometheus.yml instead of the generated one (targets is then ignored). */
  config?: string;
  /** Default 1s, so a test sees targets up quickly. */
  scrapeInterval?: string;
  readyTimeoutMs?: number;
}

/** A throwaway node_exporter (Debian's prometheus-node-exporter) on a free loopback port. */
export async function startNodeExporter(opts: { readyTimeoutMs?: number } = {}): Promise<NodeExporterServer> {
  assertAvailable('node_exporter');
  const bin = findNodeExporter()!;
  return startInTempDir('node-exporter', async (dir, spawn) => {
    const port = await getFreePort();
    const url = `http://${LOOPBACK}:${port}/metrics`;
    // Collectors that read systemd or hardware are off: a test box has neither, and they only add noise.
    const args = [`--web.listen-address=${LOOPBACK}:${port}`, '--no-collector.systemd', '--no-collector.hwmon'];
    const p = spawn({ name: 'node_exporter', command: bin, args, cwd: dir });
    await waitUntilReady(p, () => probeHttp(url, (body) => body.includes('node_')), {
      what: `${url} serving node_ metrics`,
      timeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
    return { target: `${LOOPBACK}:${port}`, url, host: LOOPBACK, port };
  });
}

/** The prometheus.yml a test Prometheus scrapes with: one `node` job over the given targets. */
export function prometheusConfig(targets: string[], scrapeInterval = '1s'): string {
  return [
    'global:',
    `  scrape_interval: ${scrapeInterval}`,
    `  evaluation_interval: ${scrapeInterval}`,
    'scrape_configs:',
    '  - job_name: node',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
}

/** A throwaway Prometheus with its TSDB in a temp dir, on a free loopback port; ready once /-/ready says so. */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<PrometheusServer> {
  assertAvailable('prometheus');
  const bin = findPrometheus()!;
  return startInTempDir('prometheus', async (dir, spawn) => {
    const configPath = join(dir, 'prometheus.yml');
    await writeFile(configPath, opts.config ?? prometheusConfig(opts.targets ?? [], opts.scrapeInterval));
    const port = await getFreePort();
    const url = `http://${LOOPBACK}:${port}`;
    const args = [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${LOOPBACK}:${port}`,
      '--web.enable-lifecycle',
    ];
    const p = spawn({ name: 'prometheus', command: bin, args, cwd: dir });
    await waitUntilReady(p, () => probeHttp(`${url}/-/ready`, () => true), {
      what: `${url}/-/ready`,
      timeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
    return { url, host: LOOPBACK, port, configPath };
  });
}

/** An instant query against a Prometheus HTTP API: the result vector as {labels, value} rows. */
export async function prometheusQuery(
  url: string,
  query: string,
): Promise<{ labels: Record<string, string>; value: number }[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`prometheus query ${query}: ${body.error ?? res.status}`);
  return (body.data?.result ?? []).map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

async function probeHttp(url: string, accept: (body: string) => boolean): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  const body = await res.text();
  if (!res.ok || !accept(body)) throw new Error(`${url}: HTTP ${res.status}`);
}
