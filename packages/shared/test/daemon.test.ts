import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonPaths, daemonStatus, ensureDaemon, socketRequest, startDaemon, stopDaemon } from '../src/daemon.js';

const entry = join(import.meta.dirname, 'fixtures', 'daemon-entry.mjs');
const tool = 'stratumtest';
let env: NodeJS.ProcessEnv = {};

function freshEnv(): NodeJS.ProcessEnv {
  env = { ...process.env, STRATUMTEST_DATA_DIR: mkdtempSync(join(tmpdir(), 'daemon-')) };
  return env;
}

afterEach(async () => {
  await stopDaemon(tool, env).catch(() => {});
});

describe('ensureDaemon', () => {
  it('starts one daemon when several commands ask at once, over stale files, and all get its socket', async () => {
    freshEnv();
    const p = daemonPaths(tool, env);
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(p.pid, '999999\n'); // a daemon that died
    writeFileSync(p.socket, '');
    const results = await Promise.all(Array.from({ length: 4 }, () => ensureDaemon({ tool, entry, env })));
    const pids = new Set(results.map((r) => r.pid));
    expect(pids.size).toBe(1);
    const status = await daemonStatus(tool, env);
    expect(status).toMatchObject({ running: true, pid: results[0]?.pid });
    expect(readFileSync(p.pid, 'utf8').trim()).toBe(String(results[0]?.pid));
    const health = await socketRequest(p.socket, 'GET', '/health');
    expect(health.body).toMatchObject({ status: 'ok', tool, version: '0.0.0-test' });
  });

  it('returns the running daemon without starting another', async () => {
    freshEnv();
    const first = await startDaemon({ tool, entry, env });
    const again = await ensureDaemon({ tool, entry, env });
    expect(again.pid).toBe(first.pid);
  });

  it('serves Prometheus metrics on the socket and logs to its log file', async () => {
    freshEnv();
    const { socket } = await startDaemon({ tool, entry, env });
    const metrics = await socketRequest(socket, 'GET', '/metrics');
    expect(String(metrics.body)).toContain('stratumtest_process_cpu_seconds_total');
    await stopDaemon(tool, env);
    const log = readFileSync(daemonPaths(tool, env).log, 'utf8');
    expect(log).toMatch(/INFO stratumtestd: daemon listening/);
    expect(log).toMatch(/INFO stratumtestd: shutting down signal=SIGTERM/);
  });

  it('reports a daemon that cannot start, with the last lines of its log', async () => {
    freshEnv();
    const broken = join(mkdtempSync(join(tmpdir(), 'broken-')), 'entry.mjs');
    writeFileSync(broken, "console.error('cannot open storage: permission denied'); process.exit(1);\n");
    await expect(startDaemon({ tool, entry: broken, env })).rejects.toThrow(/cannot open storage: permission denied/);
  });
});
