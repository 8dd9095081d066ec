import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath } from '../../../test/run-bin.js';
import { skipUnless, startNodeExporter, startPrometheus } from '../../shared/src/testing/index.js';
import { parseMetrics, sparkline, summarize } from '../src/core/observe.js';
import { hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/** A service whose "process" is a file, with a log file and a health check on it. */
const SVC = `{
  name = "svc",
  description = "runs while its file exists; logs to var/log/svc.log",
  version = "1.0",
  install = [{ name = "dir", run = m%"mkdir -p "$root/opt/svc" "$root/var/log""% }],
  start = [{ name = "run", run = m%"touch "$root/opt/svc/running"; echo "svc started on $host" >> "$root/var/log/svc.log""% }],
  health = [{ name = "running", run = m%"test -f "$root/opt/svc/running" || { echo "not running" >&2; exit 1; }"% }],
  status = { name = "status", run = m%"if [ -f "$root/opt/svc/running" ]; then echo running; else echo stopped; fi"% },
  uninstall = [{ name = "rm", run = m%"rm -rf "$root/opt/svc" "$root/var/log/svc.log"; rmdir "$root/opt" "$root/var/log" "$root/var" 2>/dev/null || true"% }],
}
`;

/** A prov process left running (-f), its output collected, until stopped. */
function follow(ws: { cwd: string; env: NodeJS.ProcessEnv }, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [binPath('prov'), ...args], {
    cwd: ws.cwd,
    env: ws.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = { out: '', err: '', child };
  child.stdout?.on('data', (d: Buffer) => {
    p.out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    p.err += d.toString();
  });
  return p;
}

async function until(what: string, cond: () => boolean, timeoutMs = 60_000, show = () => '') {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${show()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const stop = (c: ChildProcess) =>
  new Promise<void>((done) => {
    if (c.exitCode !== null) return done();
    c.once('exit', () => done());
    c.kill('SIGINT');
  });

describe('metrics parsing and sparklines', () => {
  it('reads the exposition format and draws a series between its own min and max', () => {
    const s = parseMetrics(
      [
        '# HELP node_load1 1m load average.',
        'node_load1 0.5',
        'node_memory_MemTotal_bytes 1000',
        'node_memory_MemAvailable_bytes 250',
        'node_filesystem_size_bytes{device="/dev/sda1",mountpoint="/"} 200',
        'node_filesystem_avail_bytes{device="/dev/sda1",mountpoint="/"} 50',
        'node_filesystem_avail_bytes{device="tmpfs",mountpoint="/run"} 1',
        'node_cpu_seconds_total{cpu="0",mode="idle"} 1',
        'node_cpu_seconds_total{cpu="1",mode="idle"} 1',
        'garbage line',
      ].join('\n'),
    );
    expect(summarize('h', s)).toEqual({
      host: 'h',
      load1: 0.5,
      cpus: 2,
      memory_used_pct: 75,
      disk_used_pct: 75,
      uptime_s: null,
    });
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([3, 3])).toBe('▁▁');
  });
});

describe.skipIf(skipUnless('sshd'))('prov health, logs, events and metrics on real sshd hosts', () => {
  let hosts: TestHost[];
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  const running = (h: TestHost) => join(h.root, 'opt/svc/running');

  beforeAll(async () => {
    hosts = await startHosts(2, 'web');
    ws = workspace(
      `{
  provider = 'local,
  hosts = {
    ${hosts.map((h) => hostEntry(h, ', labels.cluster = "web"')).join(',\n    ')},
  },
  taskservs = [{ name = "svc", hosts = [${hosts.map((h) => `"${h.name}"`).join(', ')}] }],
} | (import "infrastructure.ncl")
`,
      hosts,
      '\n[taskservs]\ndirs = ["defs"]\n',
    );
    mkdirSync(join(ws.cwd, 'defs'));
    writeFileSync(join(ws.cwd, 'defs', 'svc.ncl'), SVC);
    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('health runs every check across the fleet and exits 1 naming the unhealthy one', {
    timeout: 120_000,
  }, async () => {
    const ok = await prov(ws, ['health', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).checks.map((c: { host: string; status: string }) => [c.host, c.status])).toEqual([
      ['web-1', 'healthy'],
      ['web-2', 'healthy'],
    ]);
    rmSync(running(hosts[1]!));
    try {
      const bad = await prov(ws, ['health']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/svc\s+web-1\s+healthy/);
      expect(bad.stdout).toMatch(/svc\s+web-2\s+unhealthy\s+1\s+\d+\s+running: exit 1: not running/);
      expect(bad.stdout).toMatch(/1 healthy, 1 failing/);
      expect(bad.stderr).toMatch(/1 of 2 health checks failing: svc@web-2/);
      const one = await prov(ws, ['health', '--cluster', 'web', '--service', 'nope']);
      expect(one.stdout).toMatch(/No taskservs to check/);
      expect((await prov(ws, ['health', '--cluster', 'db'])).code).toBe(2);
    } finally {
      writeFileSync(running(hosts[1]!), '');
    }
  });

  it('logs prints the taskserv log of every host with host prefixes, and -f follows new lines', {
    timeout: 180_000,
  }, async () => {
    const r = await prov(ws, ['logs', 'svc']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/web-1 \| svc started on web-1/);
    expect(r.stdout).toMatch(/web-2 \| svc started on web-2/);
    const json = JSON.parse((await prov(ws, ['logs', 'svc', '-n', '1', '--json'])).stdout);
    expect(json.lines).toHaveLength(2);

    const f = follow(ws, ['logs', 'svc', '-f', '-n', '5']);
    try {
      await until(
        'the first lines',
        () => f.out.includes('web-2 | svc started'),
        60_000,
        () => f.out + f.err,
      );
      appendFileSync(join(hosts[1]!.root, 'var/log/svc.log'), 'request served 200\n');
      await until(
        'the appended line',
        () => f.out.includes('web-2 | request served 200'),
        60_000,
        () => f.out + f.err,
      );
      appendFileSync(join(hosts[0]!.root, 'var/log/svc.log'), 'another on web-1\n');
      await until('the line from web-1', () => f.out.includes('web-1 | another on web-1'));
    } finally {
      await stop(f.child);
    }
    expect(f.err).toBe('');
    expect((await prov(ws, ['logs', 'nothing'])).code).toBe(2);
    expect((await prov(ws, ['logs', 'svc', '--since', 'yesterday'])).code).toBe(2);
  });

  it('events merges runs, state changes and drift in time order, and -f shows new ones', {
    timeout: 180_000,
  }, async () => {
    rmSync(running(hosts[0]!));
    const plan = await prov(ws, ['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    writeFileSync(running(hosts[0]!), '');
    const r = await prov(ws, ['events', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const events = JSON.parse(r.stdout).events as { at: string; kind: string; message: string }[];
    const at = events.map((e) => e.at);
    expect([...at].sort()).toEqual(at);
    const idx = (re: RegExp) => events.findIndex((e) => re.test(e.message));
    expect(idx(/^apply started/)).toBeGreaterThan(-1);
    expect(idx(/^create taskserv\.svc\.web-1: done/)).toBeGreaterThan(idx(/^apply started/));
    expect(idx(/^apply succeeded/)).toBeGreaterThan(idx(/^create taskserv\.svc\.web-2: done/));
    expect(events.find((e) => e.kind === 'drift')?.message).toMatch(/drift taskserv\.svc\.web-1/);

    const f = follow(ws, ['events', '-f', '--json', '--interval', '1', '--kind', 'run']);
    try {
      await until('the first events', () => f.out.includes('apply succeeded'));
      const before = f.out.split('\n').filter(Boolean).length;
      const destroy = await prov(ws, ['destroy', '-y']);
      expect(destroy.code, destroy.stderr).toBe(0);
      await until('the destroy run', () => /destroy succeeded/.test(f.out));
      const lines = f.out.split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(before);
      expect(lines.every((l) => JSON.parse(l).kind === 'run')).toBe(true);
    } finally {
      await stop(f.child);
    }
    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
  });

  describe.skipIf(skipUnless('node_exporter') || skipUnless('prometheus'))('metrics', () => {
    it('scrapes node_exporter on every host over SSH, and asks Prometheus for a load series', {
      timeout: 240_000,
    }, async () => {
      const ne = await startNodeExporter();
      const prom = await startPrometheus({ targets: [ne.target] });
      try {
        const r = await prov(ws, ['metrics', '--port', String(ne.port), '--json']);
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as {
          hosts: { host: string; load1: number; memory_used_pct: number; cpus: number }[];
        };
        expect(doc.hosts.map((h) => h.host)).toEqual(['web-1', 'web-2']);
        for (const h of doc.hosts) {
          expect(typeof h.load1).toBe('number');
          expect(h.memory_used_pct).toBeGreaterThan(0);
          expect(h.memory_used_pct).toBeLessThan(100);
          expect(h.cpus).toBeGreaterThan(0);
        }
        const text = await prov(ws, ['metrics', '--port', String(ne.port)]);
        expect(text.stdout).toMatch(/web-1\s+[\d.]+\s+\d+\s+[\d.]+/);

        const down = await prov(ws, ['metrics', '--port', '1', '--json']);
        expect(down.code).toBe(1);
        expect(down.stderr).toMatch(/no node_exporter answering on port 1/);

        // Prometheus scrapes every second: wait for a few samples.
        let series: number[] = [];
        for (let i = 0; i < 60 && series.length < 2; i++) {
          const p = await prov(ws, ['metrics', '--prometheus', prom.url, '--range', '1m', '--json']);
          if (p.code === 0) series = (JSON.parse(p.stdout).hosts[0]?.series ?? []) as number[];
          if (series.length < 2) await new Promise((res) => setTimeout(res, 1000));
        }
        expect(series.length).toBeGreaterThanOrEqual(2);
        const p = await prov(ws, ['metrics', '--prometheus', prom.url, '--range', '1m', '--json']);
        expect(JSON.parse(p.stdout).hosts[0]).toMatchObject({
          host: ne.target,
          sparkline: expect.stringMatching(/^[▁-█]+$/),
        });
        const unreachable = await prov(ws, ['metrics', '--prometheus', 'http://127.0.0.1:1']);
        expect(unreachable.code).toBe(7);
      } finally {
        await Promise.all([prom.stop(), ne.stop()]);
      }
    });
  });
});
