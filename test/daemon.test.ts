import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from './run-bin.js';

// One sandbox (data dir) for the whole lifecycle; stopped at the end whatever happens.
const box = sandbox();
const run = (...args: string[]) => runBin('kogral', ['daemon', ...args], box);
const runDir = join(box.env.XDG_DATA_HOME as string, 'stratumiops', 'kogral', 'run');

afterAll(async () => {
  await run('stop');
});

describe('daemon lifecycle (real detached process)', () => {
  it('reports not running (exit 7) before it is started', async () => {
    const r = await run('status', '--json');
    expect(r.code).toBe(7);
    expect(JSON.parse(r.stdout)).toMatchObject({ running: false });
  });

  it('cleans stale pid and socket files left by a dead daemon, then starts', async () => {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'kograld.pid'), '999999\n'); // no such process
    writeFileSync(join(runDir, 'kograld.sock'), '');
    const r = await run('start', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { pid, socket } = JSON.parse(r.stdout);
    expect(pid).toBeGreaterThan(0);
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(runDir, 'kograld.pid')).mode & 0o777).toBe(0o600);
  });

  it('answers status with its health', async () => {
    const r = await run('status', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ running: true, health: { status: 'ok', tool: 'kogral' } });
  });

  it('refuses a second start with exit 6', async () => {
    const r = await run('start');
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/already running \(pid \d+\)/);
  });

  it('stops, removing its socket and pid file; a second stop is exit 4', async () => {
    const r = await run('stop', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(runDir, 'kograld.sock'))).toBe(false);
    expect(existsSync(join(runDir, 'kograld.pid'))).toBe(false);
    expect((await run('status')).code).toBe(7);
    expect((await run('stop')).code).toBe(4);
  });

  it('keeps a log that `daemon logs` prints', async () => {
    const r = await run('logs', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).file).toBe(join(runDir, 'kograld.log'));
  });

  it('recovers after the daemon is killed with SIGKILL (stale files)', async () => {
    const started = JSON.parse((await run('start', '--json')).stdout);
    process.kill(started.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect((await run('status')).code).toBe(7);
    const again = await run('start', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).pid).not.toBe(started.pid);
  });
});
