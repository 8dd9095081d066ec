import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath } from '../../../test/run-bin.js';
import { type PostgresServer, skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import { hostEntry, inventory, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/**
 * A stand-in definition, found first through taskservs.dirs: the schema's 'kubernetes taskserv name with a
 * slow install, so a run can be caught in the middle (the real kubeadm definition is not part of this issue).
 */
const SLOW = `{
  name = "kubernetes",
  description = "test stand-in: a slow install",
  version = "0",
  variables = { delay = 2 },
  install = [{ name = "slow", run = m%"sleep "$delay"; mkdir -p "$root/opt/k"; echo ok > "$root/opt/k/$host""% }],
  uninstall = [{ name = "rm", run = m%"rm -f "$root/opt/k/$host"; prov_prune "$root/opt/k""% }],
}
`;

function slowWorkspace(hosts: TestHost[], delaySeconds = 2) {
  const cfg = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} },
  servers = [${hosts.map((h) => `{ name = "${h.name}", provider = 'local, spec.os = { family = 'debian, version = "12" } }`).join(', ')}],
  taskservs = [{ name = 'kubernetes, hosts = [${hosts.map((h) => `"${h.name}"`).join(', ')}], config.delay = ${delaySeconds} }],
} | Infrastructure
`;
  const ws = workspace(cfg, hosts, '\n[taskservs]\ndirs = ["taskservs"]\n');
  mkdirSync(join(ws.cwd, 'taskservs'));
  writeFileSync(join(ws.cwd, 'taskservs', 'kubernetes.ncl'), SLOW);
  return ws;
}

function startApply(
  ws: { cwd: string; env: NodeJS.ProcessEnv },
  args: string[] = [],
): ChildProcess & { out: () => string } {
  const child = spawn(process.execPath, [binPath('prov'), 'apply', '-y', '--parallelism', '1', ...args], {
    cwd: ws.cwd,
    env: ws.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return Object.assign(child, { out: () => out });
}

/** Polls the state file (read-only, WAL) until the query returns a row. */
async function waitForRow<T>(dbFile: string, sql: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const db = new Database(dbFile, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare(sql).get() as T | undefined;
        if (row) return row;
      } finally {
        db.close();
      }
    } catch {}
    await delay(50);
  }
  throw new Error(`timed out waiting for: ${sql}`);
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => c.on('close', (code) => r(code)));

describe.skipIf(skipUnless('sshd'))('crash, resume and locking', () => {
  let hosts: TestHost[];
  beforeAll(async () => {
    hosts = await startHosts(2, 'kn');
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('kill -9 in the middle of a task: apply refuses, resume finishes from the checkpoint', async () => {
    const before = hosts.map((h) => inventory(h.root));
    const ws = slowWorkspace(hosts);
    const db = join(ws.cwd, '.prov', 'state.db');
    const child = startApply(ws);
    const task = await waitForRow<{ run_id: string }>(
      db,
      "SELECT run_id FROM tasks WHERE address = 'taskserv.kubernetes.kn-1' AND status = 'running'",
    );
    child.kill('SIGKILL');
    await exited(child);

    const refused = await prov(ws, ['apply', '-y']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(
      /state is locked by \S+@\S+ pid \d+ \(apply run .+\); that process is gone \(stale lock\)/,
    );
    expect(refused.stderr).toContain(`prov resume ${task.run_id}`);
    const status = JSON.parse((await prov(ws, ['state', 'lock', 'status', '--json'])).stdout);
    expect(status).toMatchObject({ locked: true, stale: true, lock: { run_id: task.run_id, operation: 'apply' } });

    // The dead run is shown as interrupted, not running, with the command that continues it.
    const dead = await prov(ws, ['history', task.run_id]);
    expect(dead.stdout).toContain(`run ${task.run_id}: apply interrupted`);
    expect(dead.stdout).toContain(`continue it with: prov resume ${task.run_id}`);
    const listed = JSON.parse((await prov(ws, ['history', '--json'])).stdout);
    expect(listed.runs.find((r: { id: string }) => r.id === task.run_id).status).toBe('interrupted');

    const resumed = await prov(ws, ['resume', task.run_id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    for (const h of hosts) expect(readFileSync(join(h.root, 'opt/k', h.name), 'utf8')).toBe('ok\n');
    const state = JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout);
    expect(state.resources).toHaveLength(4);
    const run = JSON.parse((await prov(ws, ['history', task.run_id, '--json'])).stdout);
    expect(run.run.status).toBe('succeeded');
    expect(run.tasks.every((t: { status: string }) => t.status === 'done')).toBe(true);
    const again = await prov(ws, ['apply', '-y']);
    expect(again.stdout).toContain('No changes.');

    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
    expect(hosts.map((h) => inventory(h.root))).toEqual(before);
  }, 120_000);

  it('a second concurrent apply fails fast naming the lock owner', async () => {
    const ws = slowWorkspace(hosts, 8);
    const db = join(ws.cwd, '.prov', 'state.db');
    const first = startApply(ws);
    await waitForRow(db, 'SELECT id FROM lock');
    const second = await prov(ws, ['apply', '-y']);
    // It does not wait for the lock: it is refused while the first run is still going.
    expect(first.exitCode).toBeNull();
    expect(second.code).toBe(6);
    expect(second.stderr).toMatch(new RegExp(`state is locked by \\S+@\\S+ pid ${first.pid} \\(apply run `));
    expect(await exited(first), first.out()).toBe(0);
    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
  }, 120_000);

  it('apply refuses over an interrupted run unless --abandon', async () => {
    const ws = slowWorkspace(hosts);
    const db = join(ws.cwd, '.prov', 'state.db');
    const child = startApply(ws);
    const task = await waitForRow<{ run_id: string; id: string }>(
      db,
      "SELECT l.run_id, l.id FROM tasks t JOIN lock l WHERE t.status = 'done'",
    );
    child.kill('SIGKILL');
    await exited(child);
    const unlock = await prov(ws, ['state', 'lock', 'force-unlock', task.id, '--yes']);
    expect(unlock.code, unlock.stderr).toBe(0);
    const refused = await prov(ws, ['apply', '-y']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain(`run ${task.run_id} (apply by`);
    expect(refused.stderr).toContain('did not finish');
    const abandoned = await prov(ws, ['apply', '-y', '--abandon']);
    expect(abandoned.code, abandoned.stderr).toBe(0);
    expect(abandoned.stdout).toContain(`Abandoned unfinished run(s): ${task.run_id}`);
    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
  }, 120_000);
  it('apply --resume takes over the stale lock of a crashed run, finishes it, then applies', async () => {
    const ws = slowWorkspace(hosts, 1);
    const db = join(ws.cwd, '.prov', 'state.db');
    const child = startApply(ws);
    const row = await waitForRow<{ run_id: string }>(db, "SELECT run_id FROM tasks WHERE status = 'done'");
    child.kill('SIGKILL');
    await exited(child);
    const r = await prov(ws, ['apply', '-y', '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Resuming unfinished run ${row.run_id}...`);
    expect(r.stdout).toContain('No changes.');
    const hist = JSON.parse((await prov(ws, ['history', '--json'])).stdout);
    expect(hist.runs[0]).toMatchObject({ id: row.run_id, status: 'succeeded' });
    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
  }, 120_000);
});

describe.skipIf(skipUnless('sshd') || skipUnless('postgres'))('crash and resume with a PostgreSQL state', () => {
  let hosts: TestHost[];
  let server: PostgresServer;
  beforeAll(async () => {
    [hosts, server] = await Promise.all([startHosts(2, 'kp'), startPostgres()]);
  });
  afterAll(async () => {
    await Promise.all([stopHosts(hosts), server?.stop()]);
  });

  it('kill -9 mid-task: the lock went with the session, apply refuses the unfinished run, resume finishes it', async () => {
    const ws = slowWorkspace(hosts);
    ws.env.PROV_STATE = server.url;
    const child = startApply(ws);
    const db = new pg.Client({ connectionString: server.url });
    await db.connect();
    let runId = '';
    try {
      const until = Date.now() + 30_000;
      while (!runId && Date.now() < until) {
        const r = await db
          .query("SELECT run_id FROM prov_tasks WHERE address = 'taskserv.kubernetes.kp-1' AND status = 'running'")
          .catch(() => ({ rows: [] as { run_id: string }[] }));
        runId = r.rows[0]?.run_id ?? '';
        if (!runId) await delay(50);
      }
    } finally {
      await db.end();
    }
    expect(runId).not.toBe('');
    child.kill('SIGKILL');
    await exited(child);

    // No stale lock to clear: the server ended the dead session's advisory lock.
    for (let i = 0; i < 100; i++) {
      const s = JSON.parse((await prov(ws, ['state', 'lock', 'status', '--json'])).stdout);
      if (!s.locked) break;
      await delay(100);
    }
    const refused = await prov(ws, ['apply', '-y']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain(`run ${runId} (apply by`);
    const resumed = await prov(ws, ['resume', runId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    for (const h of hosts) expect(readFileSync(join(h.root, 'opt/k', h.name), 'utf8')).toBe('ok\n');
    expect((await prov(ws, ['apply', '-y'])).stdout).toContain('No changes.');
    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
  }, 120_000);
});
