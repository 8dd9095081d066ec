import { StratumError } from '@stratumiops/shared/errors';
import { byCodeUnits } from '@stratumiops/shared/order';
import { type Executor, type HostTarget, installRoot, shq } from './executor.js';
import { SECRET_REF } from './sensitive.js';
import type { StateStore } from './state.js';
import { stepEnv, type TaskservDefinition } from './taskserv.js';
import type { Attrs, RunRecord } from './types.js';

/** A taskserv on one host, as the config places it. */
export interface Placement {
  service: string;
  host: string;
  version?: string;
  config: Attrs;
}

// ---------------------------------------------------------------- health

export interface HealthRow {
  service: string;
  host: string;
  status: 'healthy' | 'unhealthy' | 'unreachable' | 'no-check';
  /** Health steps run (those whose `when` held). */
  checks: number;
  ms: number;
  detail: string;
}

/**
 * The definition's health steps on one host, with the environment apply gives them; each step once (or with
 * its retries when `wait`), the first failure decides. Secret references in the config are resolved.
 */
export async function checkHealth(
  exec: Executor,
  host: HostTarget,
  def: TaskservDefinition,
  p: Placement,
  wait: boolean,
): Promise<HealthRow> {
  const t0 = performance.now();
  const row = (status: HealthRow['status'], checks: number, detail: string): HealthRow => ({
    service: p.service,
    host: host.name,
    status,
    checks,
    ms: Math.round(performance.now() - t0),
    detail,
  });
  try {
    const facts = await exec.facts(host);
    const config: Attrs = {};
    for (const [k, v] of Object.entries(p.config))
      config[k] = typeof v === 'string' && SECRET_REF.test(v) && exec.secret ? await exec.secret(v) : v;
    const env = stepEnv(def, { ...(p.version ? { version: p.version } : {}), config, facts, host });
    const sudo = (wanted: boolean) => wanted && installRoot(host) === '';
    let checks = 0;
    for (const s of def.health) {
      if (s.when) {
        const w = await exec.run(host, {
          name: `${s.name}:when`,
          script: `set -eu\n${s.when}`,
          env,
          sudo: sudo(s.sudo),
        });
        if (w.exitCode !== 0) continue;
      }
      checks++;
      let last = { exitCode: 1, stdout: '', stderr: '', timedOut: false };
      for (let attempt = 0; attempt <= (wait ? s.retries : 0); attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, s.delay_s * 1000));
        last = await exec.run(host, {
          name: `health/${s.name}`,
          script: `set -eu\n${s.run}`,
          env,
          sudo: sudo(s.sudo),
          timeoutS: Math.min(s.timeout_s, 60),
          shell: s.shell === 'bash' ? 'bash' : 'sh',
        });
        if (last.exitCode === 0) break;
      }
      if (last.exitCode !== 0) {
        const why = (last.stderr.trim() || last.stdout.trim()).split('\n').slice(-1)[0] ?? '';
        return row(
          'unhealthy',
          checks,
          `${s.name}: ${last.timedOut ? 'timed out' : `exit ${last.exitCode}`}${why ? `: ${why}` : ''}`,
        );
      }
    }
    return checks ? row('healthy', checks, '') : row('no-check', 0, 'the definition has no health step that applies');
  } catch (e) {
    return row('unreachable', 0, (e as Error).message);
  }
}

/** Runs `fn` over items, at most `limit` at once, results in the items' order. */
export async function inParallel<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

// ---------------------------------------------------------------- logs

/** `1h`, `30m`, `2d`, `45s` → journalctl's "N seconds ago"; anything else is refused. */
export function sinceSpec(s: string): string {
  const m = /^(\d{1,6})([smhd])$/.exec(s.trim());
  if (!m)
    throw new StratumError('usage', `--since ${JSON.stringify(s)} is not a duration`, {
      hint: 'e.g. --since 30m, 1h, 2d',
    });
  const secs = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return `${secs} seconds ago`;
}

/**
 * The script that prints (or follows) a log on a host: the taskserv's log file under the install root when it
 * has one, else its journald unit; for a whole server, the journal (else syslog). Following, a `tick` line
 * every second pushes each log line out at once (prov's shell holds a line back until the next arrives) and
 * ends the reader when the connection is gone; the caller drops the ticks.
 */
export function logScript(o: {
  root: string;
  service?: string;
  lines: number;
  since?: string;
  follow: boolean;
  tick?: string;
}): string {
  const n = Math.max(1, Math.min(o.lines, 100_000));
  const since = o.since ? ` --since ${shq(sinceSpec(o.since))}` : '';
  const journal = `journalctl --no-pager -o short-iso -n ${n}${since}${o.follow ? ' -f' : ''}`;
  const tail = (f: string) => `tail -n ${n}${o.follow ? ' -F' : ''} ${f}`;
  const hasJournal = 'command -v journalctl >/dev/null 2>&1 && [ -d /run/systemd/system ]';
  let choose: string[];
  if (o.service) {
    const file = shq(`${o.root}/var/log/${o.service}.log`);
    choose = [
      `if [ -f ${file} ]; then ${tail(file)}`,
      `elif ${hasJournal}; then ${journal} -u ${shq(o.service)}`,
      `else echo ${shq(`no log for ${o.service}: neither ${o.root}/var/log/${o.service}.log nor a journald unit`)} >&2; exit 4; fi`,
    ];
  } else {
    choose = [
      `if ${hasJournal}; then ${journal}`,
      `elif [ -f /var/log/syslog ]; then ${tail('/var/log/syslog')}`,
      `elif [ -f /var/log/messages ]; then ${tail('/var/log/messages')}`,
      'else echo "no journald and no /var/log/syslog or /var/log/messages on this host" >&2; exit 4; fi',
    ];
  }
  const reader = `prov_log() {\n${choose.join('\n')}\n}`;
  if (!o.follow || !o.tick) return `${reader}\nprov_log`;
  const tick = shq(o.tick);
  return [
    reader,
    'prov_log & p=$!',
    "trap 'kill $p 2>/dev/null' EXIT HUP INT TERM",
    `while kill -0 $p 2>/dev/null; do printf '%s\\n' ${tick} || break; sleep 1; done`,
    'wait $p',
  ].join('\n');
}

// ---------------------------------------------------------------- events

export interface ProvEvent {
  at: string;
  kind: 'run' | 'task' | 'drift' | 'cert';
  run?: string;
  address?: string;
  message: string;
}

/**
 * Runs (started, finished), the changes each made to state (tasks as they finished), drift the plans found,
 * and certificates recorded; in time order.
 */
export async function collectEvents(store: StateStore, extra: ProvEvent[] = [], limit = 200): Promise<ProvEvent[]> {
  const runs: RunRecord[] = await store.listRuns(limit);
  const events: ProvEvent[] = [...extra];
  for (const run of runs) {
    const certs = (
      run.summary as { certs?: { domain: string; host: string; serial: string; not_after: string }[] } | null
    )?.certs;
    const op = (run.summary as { operation?: string } | null)?.operation ?? run.kind;
    events.push({ at: run.started_at, kind: 'run', run: run.id, message: `${op} started by ${run.who}@${run.host}` });
    for (const e of driftEvents(run.plan)) events.push({ ...e, run: run.id });
    for (const t of await store.tasks(run.id)) {
      if (t.status === 'pending' || t.status === 'running') continue;
      events.push({
        at: t.updated_at,
        kind: 'task',
        run: run.id,
        address: t.address,
        message: `${t.action} ${t.address}: ${t.status}${t.error ? ` (${t.error})` : ''}`,
      });
    }
    for (const c of certs ?? [])
      events.push({
        at: run.finished_at ?? run.started_at,
        kind: 'cert',
        run: run.id,
        address: `${c.domain}@${c.host}`,
        message: `certificate ${c.domain} on ${c.host}: serial ${c.serial}, expires ${c.not_after}`,
      });
    if (run.finished_at)
      events.push({
        at: run.finished_at,
        kind: 'run',
        run: run.id,
        message: `${op} ${run.status}${run.error ? `: ${run.error}` : ''}`,
      });
  }
  // Stable: same instant keeps the order above (a run starts before its tasks, which finish before it does).
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => byCodeUnits(a.e.at, b.e.at) || a.i - b.i)
    .map((x) => x.e);
}

export const eventKey = (e: ProvEvent) => `${e.at}\0${e.kind}\0${e.run ?? ''}\0${e.address ?? ''}\0${e.message}`;

// ---------------------------------------------------------------- metrics

/** Prometheus text exposition format: name{labels} value, comments skipped. */
export function parseMetrics(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    const value = Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

export interface HostMetrics {
  host: string;
  load1: number | null;
  cpus: number | null;
  memory_used_pct: number | null;
  disk_used_pct: number | null;
  uptime_s: number | null;
}

/** The figures `prov metrics` shows, from one node_exporter scrape. */
export function summarize(host: string, samples: ReturnType<typeof parseMetrics>): HostMetrics {
  const one = (name: string, f: (l: Record<string, string>) => boolean = () => true) =>
    samples.find((s) => s.name === name && f(s.labels))?.value ?? null;
  const memTotal = one('node_memory_MemTotal_bytes');
  const memAvail = one('node_memory_MemAvailable_bytes');
  const root = (l: Record<string, string>) => l.mountpoint === '/';
  const size = one('node_filesystem_size_bytes', root);
  const avail = one('node_filesystem_avail_bytes', root);
  const boot = one('node_boot_time_seconds');
  const now = one('node_time_seconds');
  const cpus = new Set(samples.filter((s) => s.name === 'node_cpu_seconds_total').map((s) => s.labels.cpu)).size;
  const pct = (a: number | null, b: number | null) => (a !== null && b ? Math.round((1 - a / b) * 1000) / 10 : null);
  return {
    host,
    load1: one('node_load1'),
    cpus: cpus || null,
    memory_used_pct: pct(memAvail, memTotal),
    disk_used_pct: pct(avail, size),
    uptime_s: boot !== null && now !== null ? Math.round(now - boot) : null,
  };
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of a series, scaled to its own min and max. */
export function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BARS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]).join('');
}

/** Where plan records the drift it finds (runs record their own): one JSON event per line. */
export const EVENTS_FILE = '.prov/events.jsonl';

export function driftEvents(plan: {
  created_at: string;
  changes: { address: string; gone?: boolean; drift?: { path: string; before: unknown; after: unknown }[] }[];
}): ProvEvent[] {
  const out: ProvEvent[] = [];
  for (const c of plan.changes) {
    for (const d of c.drift ?? [])
      out.push({
        at: plan.created_at,
        kind: 'drift',
        address: c.address,
        message: `drift ${c.address} ${d.path}: ${JSON.stringify(d.before)} → ${JSON.stringify(d.after)}`,
      });
    if (c.gone)
      out.push({ at: plan.created_at, kind: 'drift', address: c.address, message: `drift ${c.address}: gone` });
  }
  return out;
}

/** The events file, skipping lines that are not events (a torn last line after a crash). */
export function parseEventLines(text: string): ProvEvent[] {
  const out: ProvEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as ProvEvent;
      if (typeof e.at === 'string' && typeof e.message === 'string' && typeof e.kind === 'string') out.push(e);
    } catch {
      // Not an event.
    }
  }
  return out;
}
