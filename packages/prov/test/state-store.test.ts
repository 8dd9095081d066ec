import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import { PostgresStateStore } from '../src/adapters/state/postgres.js';
import { SqliteStateStore } from '../src/adapters/state/sqlite.js';
import type { StateStore } from '../src/core/state.js';
import type { ResourceRecord, RunRecord } from '../src/core/types.js';
import { startFakeEc2 } from '../src/testing/index.js';
import { prov, workspace } from './support/hosts.js';

const rec = (address: string, extra: Partial<ResourceRecord> = {}): ResourceRecord => ({
  address,
  kind: address.split('.')[0]!,
  name: address.split('.').slice(1).join('.'),
  provider: 'local',
  attrs: { a: 1 },
  outputs: { id: address },
  deps: [],
  sensitive: [],
  updated_at: new Date().toISOString(),
  ...extra,
});

const run = (id: string): RunRecord => ({
  id,
  kind: 'apply',
  status: 'running',
  who: 'me',
  host: 'h',
  pid: 1,
  started_at: new Date().toISOString(),
  finished_at: null,
  plan: {
    format: 'prov-plan/1',
    created_at: '',
    config: null,
    operation: 'apply',
    state: { serial: 0, lineage: '' },
    refreshed: false,
    targets: [],
    changes: [],
    summary: { add: 1, change: 0, destroy: 0, replace: 0, unchanged: 0 },
    warnings: [],
  },
  options: { parallelism: 1, rollback: true },
  error: null,
  summary: null,
});

/** The behaviour both backends share. */
async function contract(open: () => Promise<StateStore>) {
  const a = await open();
  const b = await open();
  try {
    const m0 = await a.meta();
    expect(await a.put(rec('server.x'))).toBe(m0.serial + 1);
    expect((await b.get('server.x'))?.outputs).toEqual({ id: 'server.x' });
    await a.move('server.x', 'server.y');
    expect((await a.list()).map((r) => r.address)).toContain('server.y');
    await a.remove('server.y');
    await expect(a.remove('server.y')).rejects.toThrow(/no resource server.y/);

    // A checkpoint records the task and its resource change in one transaction.
    await a.createRun(run('r1'));
    const serial = await a.checkpoint(
      {
        run_id: 'r1',
        address: 'server.z',
        action: 'create',
        status: 'done',
        attempts: 1,
        before: null,
        after: rec('server.z'),
        error: null,
        seq: 1,
        updated_at: '',
      },
      { put: rec('server.z') },
    );
    expect(serial).toBe((await b.meta()).serial);
    expect((await b.tasks('r1'))[0]).toMatchObject({ address: 'server.z', status: 'done' });
    expect((await b.unfinishedRuns()).map((r) => r.id)).toEqual(['r1']);
    await a.finishRun('r1', 'succeeded', { summary: { added: 1 } });
    expect(await b.getRun('r1')).toMatchObject({ status: 'succeeded', summary: { added: 1 } });
    expect(await b.unfinishedRuns()).toEqual([]);

    // The lock: the second taker fails fast with the owner named; released, it can be taken again.
    const l = await a.lock({ operation: 'apply', runId: 'r2' });
    await expect(b.lock({ operation: 'apply' })).rejects.toThrow(
      new RegExp(`state is locked by \\S+@\\S+ pid ${process.pid} \\(apply run r2`),
    );
    expect(await b.lockStatus()).toMatchObject({ id: l.info.id, run_id: 'r2' });
    await l.release();
    expect(await b.lockStatus()).toBeUndefined();
    const l2 = await b.lock({ operation: 'destroy' });
    await l2.release();
  } finally {
    await a.close();
    await b.close();
  }
}

describe('SQLite state', () => {
  it('keeps one row per resource, checkpoints atomically, locks with owner, pid, host', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'prov-state-')), 'state.db');
    await contract(async () => new SqliteStateStore(file));
  });

  it('force-unlocks by id and names the lock when the id is wrong', async () => {
    const s = new SqliteStateStore(join(mkdtempSync(join(tmpdir(), 'prov-state-')), 'state.db'));
    const l = await s.lock({ operation: 'apply' });
    await expect(s.forceUnlock('nope')).rejects.toThrow(`the lock is ${l.info.id}, not nope`);
    expect((await s.forceUnlock(l.info.id)).id).toBe(l.info.id);
    expect(await s.lockStatus()).toBeUndefined();
    // A stale lock (its pid is gone) may be taken over only by whoever asks for it (resume of that run).
    const dead = await s.lock({ operation: 'apply', runId: 'rx' });
    await expect(s.lock({ operation: 'resume', takeover: (x) => x.run_id === 'other' })).rejects.toThrow(/locked by/);
    const mine = await s.lock({ operation: 'resume', takeover: (x) => x.run_id === 'rx' });
    expect(mine.info.id).not.toBe(dead.info.id);
    await s.close();
  });
});

describe('a state file of the first SQLite layout', () => {
  it('is carried over on open: resources, runs, tasks, serial and lineage unchanged', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'prov-state-')), 'state.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE resources (address TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, provider TEXT NOT NULL,
  attrs TEXT NOT NULL, outputs TEXT NOT NULL, deps TEXT NOT NULL, sensitive TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE runs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, who TEXT NOT NULL, host TEXT NOT NULL,
  pid INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, plan TEXT NOT NULL, options TEXT NOT NULL,
  error TEXT, summary TEXT);
CREATE TABLE tasks (run_id TEXT NOT NULL, address TEXT NOT NULL, action TEXT NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL, before TEXT, after TEXT, error TEXT, seq INTEGER NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (run_id, address));
CREATE TABLE lock (one INTEGER PRIMARY KEY CHECK (one = 1), id TEXT NOT NULL, owner TEXT NOT NULL, pid INTEGER NOT NULL,
  host TEXT NOT NULL, operation TEXT NOT NULL, run_id TEXT, created_at TEXT NOT NULL);
INSERT INTO meta VALUES ('serial', '7'), ('lineage', 'L-1');
INSERT INTO resources VALUES ('server.old', 'server', 'old', 'local', '{"a":1}', '{"id":"o"}', '[]', '[]', 't');
INSERT INTO runs VALUES ('r0', 'apply', 'succeeded', 'me', 'h', 1, 't', 't', '{}', '{}', NULL, NULL);
INSERT INTO tasks VALUES ('r0', 'server.old', 'create', 'done', 1, NULL, NULL, NULL, 1, 't');`);
    db.close();
    const s = new SqliteStateStore(file);
    try {
      expect(await s.meta()).toEqual({ serial: 7, lineage: 'L-1' });
      expect(await s.get('server.old')).toMatchObject({ attrs: { a: 1 }, outputs: { id: 'o' } });
      expect((await s.getRun('r0'))?.status).toBe('succeeded');
      expect((await s.tasks('r0')).map((t) => t.address)).toEqual(['server.old']);
      expect(await s.put(rec('server.new'))).toBe(8);
    } finally {
      await s.close();
    }
    const again = new SqliteStateStore(file);
    expect((await again.list()).map((r) => r.address)).toEqual(['server.new', 'server.old']);
    await again.close();
  });
});

describe.skipIf(skipUnless('postgres'))('PostgreSQL state (advisory locks) on a real server', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('behaves like SQLite', async () => {
    await contract(() => PostgresStateStore.open(server.url, 'contract'));
  });

  it('drives a real apply and destroy through the CLI (PROV_STATE=postgres://...)', async () => {
    const ec2 = await startFakeEc2();
    try {
      const ws = workspace(
        `let I = import "infrastructure.ncl" in { provider = 'aws, region = "eu-west-1", networking.subnets = [{ name = "a", cidr = "10.0.1.0/24" }] } | I\n`,
        [],
      );
      Object.assign(ws.env, {
        PROV_STATE: server.url,
        PROV_AWS_ENDPOINT: ec2.url,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
      });
      const a = await prov(ws, ['apply', '-y']);
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toContain('Resources: 2 added');
      const list = JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout);
      expect(list.resources.map((r: { address: string }) => r.address)).toEqual(['subnet.a', 'vpc.main']);
      expect((await prov(ws, ['state', 'lock', 'status', '--json'])).stdout).toContain('"locked": false');
      expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
      expect(ec2.inventory()).toEqual([]);
    } finally {
      await ec2.close();
    }
  }, 60_000);

  it('a run whose lock session was terminated writes nothing more, and the next holder is not disturbed', async () => {
    const a = await PostgresStateStore.open(server.url, 'lost');
    const b = await PostgresStateStore.open(server.url, 'lost');
    try {
      const l = await a.lock({ operation: 'apply' });
      await a.put(rec('server.before'));
      await a.createRun(run('r-lost'));
      // As prov state lock force-unlock (or a server restart) would: the lock's session is terminated.
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()",
      );
      await admin.end();
      const serial = (await b.meta()).serial;
      await expect(a.put(rec('server.after'))).rejects.toThrow(/state lock .* was lost/);
      const task = {
        run_id: 'r-lost',
        address: 'server.x',
        action: 'create' as const,
        status: 'done' as const,
        attempts: 1,
        before: null,
        after: rec('server.x'),
        error: null,
        seq: 1,
        updated_at: '',
      };
      await expect(a.checkpoint(task, { put: rec('server.x') })).rejects.toThrow(/was lost/);
      expect(await b.tasks('r-lost')).toEqual([]);
      await expect(a.finishRun('r-lost', 'succeeded')).rejects.toThrow(/was lost/);
      await l.release().catch(() => {});
      // Still refused after the holder let go of it: that run never held the state again.
      await expect(a.put(rec('server.after'))).rejects.toThrow(/was lost/);
      expect((await b.list()).map((r) => r.address)).toEqual(['server.before']);
      expect((await b.meta()).serial).toBe(serial);
      expect((await b.getRun('r-lost'))?.status).toBe('running');
      // Another run takes the lock and writes as usual.
      const l2 = await b.lock({ operation: 'apply' });
      await b.put(rec('server.b'));
      await l2.release();
      expect((await b.list()).map((r) => r.address)).toEqual(['server.b', 'server.before']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('frees the lock when the holding session dies, and force-unlock terminates a live holder', async () => {
    const a = await PostgresStateStore.open(server.url, 'locks');
    const b = await PostgresStateStore.open(server.url, 'locks');
    try {
      const l = await a.lock({ operation: 'apply' });
      await expect(b.lock({ operation: 'apply' })).rejects.toThrow(/state is locked by/);
      // Kill the holder's backend as a crash would: the advisory lock goes with the session.
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted");
      await admin.end();
      // pg_terminate_backend only signals the backend: wait (bounded) until its session and lock are gone.
      for (let i = 0; i < 200 && (await b.lockStatus()) !== undefined; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await b.lockStatus()).toBeUndefined();
      const l2 = await b.lock({ operation: 'apply' });
      await l.release().catch(() => {});
      const c = await PostgresStateStore.open(server.url, 'locks');
      expect((await c.forceUnlock(l2.info.id)).id).toBe(l2.info.id);
      expect(await c.lockStatus()).toBeUndefined();
      const l3 = await c.lock({ operation: 'apply' });
      await l3.release();
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
