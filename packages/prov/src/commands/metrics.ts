import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { FleetCommand, fleetFlags } from '../cli/fleet.js';
import { type HostMetrics, inParallel, parseMetrics, sinceSpec, sparkline, summarize } from '../core/observe.js';

export default class Metrics extends FleetCommand<typeof Metrics> {
  static override summary = 'Show load, memory, disk and uptime of the fleet, from node_exporter or Prometheus';
  static override description =
    "Without --prometheus, scrapes node_exporter on each host of the config over prov's SSH connections (its port: the node_exporter taskserv's config on that host, else --port), so nothing needs to be reachable but SSH. With --prometheus URL, asks Prometheus instead, one row per scraped instance, and on a terminal adds a sparkline of each instance's load over --range. Exit 1 when no host answered.";
  static override flags = {
    ...fleetFlags,
    port: Flags.integer({
      description: 'node_exporter port where the config names none',
      default: 9100,
      min: 1,
      max: 65535,
    }),
    prometheus: Flags.string({ description: 'Prometheus to ask instead, e.g. http://prom:9090', helpValue: '<url>' }),
    range: Flags.string({
      description: 'with --prometheus: span of the load sparkline',
      default: '1h',
      helpValue: '<duration>',
    }),
  };
  static override examples = [
    '<%= config.bin %> metrics',
    '<%= config.bin %> metrics --cluster pg-prod --json',
    '<%= config.bin %> metrics --prometheus http://127.0.0.1:9090 --range 30m',
  ];

  async run() {
    const rows = this.flags.prometheus ? await this.fromPrometheus(this.flags.prometheus) : await this.fromHosts();
    const answered = rows.filter((r) => !r.error);
    if (!this.jsonEnabled()) {
      const tty = Boolean(process.stdout.isTTY);
      this.log(
        renderTable(
          rows.map((r) => ({
            host: r.host,
            load1: r.load1 ?? '-',
            cpus: r.cpus ?? '-',
            'mem used %': r.memory_used_pct ?? '-',
            'disk used %': r.disk_used_pct ?? '-',
            uptime: r.uptime_s !== null ? human(r.uptime_s) : '-',
            ...(r.series && tty ? { [`load ${this.flags.range}`]: r.sparkline } : {}),
            ...(r.error ? { error: r.error } : {}),
          })),
        ),
      );
    }
    if (answered.length === 0)
      throw new StratumError(
        'failure',
        `no metrics: ${rows.map((r) => `${r.host}: ${r.error}`).join('; ') || 'no hosts'}`,
        {
          hint: 'is node_exporter running on the hosts (prov service install node_exporter)?',
        },
      );
    return { source: this.flags.prometheus ?? 'node_exporter over ssh', hosts: rows };
  }

  private async fromHosts(): Promise<Row[]> {
    const { loaded, runtime } = await this.fleet(this.flags.file);
    try {
      const names = this.hostNames(loaded, this.flags.cluster);
      const placed = this.placementsOn(loaded, names).filter((p) => p.service === 'node_exporter');
      const { targets: hosts, exec } = await this.reach(runtime, loaded, names);
      return await inParallel(hosts, 10, async (h) => {
        const port = Number(placed.find((p) => p.host === h.name)?.config.port ?? this.flags.port);
        const url = `http://127.0.0.1:${port}/metrics`;
        try {
          const r = await exec.run(h, {
            name: 'scrape node_exporter',
            script: `curl -fsS --max-time 10 '${url}' 2>/dev/null || wget -qO- -T 10 '${url}'`,
            timeoutS: 30,
          });
          if (r.exitCode !== 0) return { ...empty(h.name), error: `no node_exporter answering on port ${port}` };
          return { ...summarize(h.name, parseMetrics(r.stdout)) };
        } catch (e) {
          return { ...empty(h.name), error: (e as Error).message };
        }
      });
    } finally {
      await runtime.close();
    }
  }

  private async fromPrometheus(base: string): Promise<Row[]> {
    const span = Number(/^(\d+)/.exec(sinceSpec(this.flags.range))?.[1]);
    const api = async (path: string, params: Record<string, string>) => {
      const url = new URL(`/api/v1/${path}`, base);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
      } catch (e) {
        throw new StratumError('unavailable', `cannot reach Prometheus at ${base}: ${(e as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as {
        status?: string;
        error?: string;
        data?: { result?: unknown[] };
      };
      if (body.status !== 'success')
        throw new StratumError('failure', `Prometheus ${path}: ${body.error ?? res.status}`);
      return (body.data?.result ?? []) as {
        metric: Record<string, string>;
        value?: [number, string];
        values?: [number, string][];
      }[];
    };
    const instant = async (q: string) => {
      const m = new Map<string, number>();
      for (const r of await api('query', { query: q })) m.set(r.metric.instance ?? '', Number(r.value?.[1]));
      return m;
    };
    const round = (v: number | undefined, d = 1) =>
      v === undefined || Number.isNaN(v) ? null : Math.round(v * 10 ** d) / 10 ** d;
    const [load, cpus, mem, disk, up] = await Promise.all([
      instant('node_load1'),
      instant('count by (instance) (node_cpu_seconds_total{mode="idle"})'),
      instant('100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)'),
      instant('100 * (1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"})'),
      instant('node_time_seconds - node_boot_time_seconds'),
    ]);
    const now = Date.now() / 1000;
    const series = new Map<string, number[]>();
    for (const r of await api('query_range', {
      query: 'node_load1',
      start: String(now - span),
      end: String(now),
      step: String(Math.max(1, Math.round(span / 30))),
    }))
      series.set(
        r.metric.instance ?? '',
        (r.values ?? []).map(([, v]) => Number(v)),
      );
    return [...load.keys()].sort().map((inst) => ({
      host: inst,
      load1: round(load.get(inst), 2),
      cpus: cpus.get(inst) ?? null,
      memory_used_pct: round(mem.get(inst)),
      disk_used_pct: round(disk.get(inst)),
      uptime_s: round(up.get(inst), 0),
      series: series.get(inst) ?? [],
      sparkline: sparkline(series.get(inst) ?? []),
    }));
  }
}

type Row = HostMetrics & { error?: string; series?: number[]; sparkline?: string };

const empty = (host: string): HostMetrics => ({
  host,
  load1: null,
  cpus: null,
  memory_used_pct: null,
  disk_used_pct: null,
  uptime_s: null,
});

function human(s: number): string {
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
