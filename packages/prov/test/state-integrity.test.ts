import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { skipUnless } from '../../shared/src/testing/index.js';
import { SqliteStateStore } from '../src/adapters/state/sqlite.js';
import { prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

const CONFIG = `{ provider = 'local } | (import "infrastructure.ncl")\n`;

/** A workspace whose .prov/state.db is given by `make` (the path in, nothing else there). */
function withState(make: (file: string) => void) {
  const ws = sandbox();
  mkdirSync(join(ws.cwd, '.prov'));
  writeFileSync(join(ws.cwd, 'prov.ncl'), CONFIG);
  const file = join(ws.cwd, '.prov', 'state.db');
  make(file);
  return { ...ws, file };
}

/** A real state with many resources (several pages), closed cleanly. */
async function realState(file: string) {
  const store = new SqliteStateStore(file);
  const records = Array.from({ length: 200 }, (_, i) => ({
    address: `server.web-${i}`,
    kind: 'server',
    name: `web-${i}`,
    provider: 'local',
    attrs: { note: 'x'.repeat(200) },
    outputs: {},
    deps: [],
    sensitive: [],
    updated_at: new Date(0).toISOString(),
  }));
  for (const r of records) await store.put(r);
  await store.close();
}

const digest = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('a state file that vanished or was damaged is an error, never a new empty state', () => {
  const cases: [string, (file: string) => void | Promise<void>, RegExp][] = [
    ['a 0-byte file', (f) => writeFileSync(f, ''), /is empty \(0 bytes\)/],
    ['a text file', (f) => writeFileSync(f, 'resources = []\n'), /is not a SQLite database/],
    [
      "another program's SQLite database",
      (f) => {
        const db = new Database(f);
        db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('a');");
        db.close();
      },
      /is a SQLite database but not a prov state \(tables: users\)/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(`${what}: exit 1 naming the file and what to do; the file is unchanged`, async () => {
      const ws = withState(() => undefined);
      await make(ws.file);
      const before = digest(ws.file);
      for (const args of [
        ['plan', '--no-refresh'],
        ['state', 'list'],
        ['apply', '-y'],
      ]) {
        const r = await runBin('prov', args, { cwd: ws.cwd, env: ws.env });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toContain(`state file ${ws.file}`);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toContain('restore');
      }
      expect(digest(ws.file)).toBe(before);
      expect(readdirSync(join(ws.cwd, '.prov')).sort()).toEqual(['state.db']);
      const j = await runBin('prov', ['state', 'list', '--json'], { cwd: ws.cwd, env: ws.env });
      expect(j.code).toBe(1);
      expect(JSON.parse(j.stdout).error).toMatchObject({ exitCode: 1, details: { state: ws.file } });
    });
  }

  it('a truncated state (half of a real one) is refused with its size; nothing changed', async () => {
    const ws = withState(() => undefined);
    await realState(ws.file);
    const ok = await runBin('prov', ['state', 'list', '--json'], { cwd: ws.cwd, env: ws.env });
    expect(ok.code, ok.stderr).toBe(0);
    const size = readFileSync(ws.file).length;
    truncateSync(ws.file, Math.floor(size / 2));
    const before = digest(ws.file);
    const r = await runBin('prov', ['plan', '--no-refresh'], { cwd: ws.cwd, env: ws.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`state file .*state\\.db is truncated \\(${Math.floor(size / 2)} of ${size} bytes\\)`),
    );
    expect(digest(ws.file)).toBe(before);
    expect(existsSync(`${ws.file}-wal`)).toBe(false);
  });

  it('a missing state file is a new state (the first run of a workspace)', async () => {
    const ws = withState(() => undefined);
    const r = await runBin('prov', ['plan', '--no-refresh'], { cwd: ws.cwd, env: ws.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('No changes.');
  });
});

describe.skipIf(skipUnless('sshd'))('a host that refuses connections', () => {
  let hosts: TestHost[];
  beforeAll(async () => {
    hosts = await startHosts(1);
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('apply exits 7 (unavailable) after its retries, with the host named', async () => {
    const h = hosts[0]!;
    // A port nothing listens on: the connection is refused.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const s = h.sshd;
    const ws = workspace(
      `{
  provider = 'local,
  hosts.${h.name} = { address = "127.0.0.1", port = ${port}, user = "${s.username}", key_path = "${s.privateKeyPath}" },
  servers = [{ name = "${h.name}", provider = 'local, spec.os = { family = 'debian, version = "12" } }],
} | (import "infrastructure.ncl")
`,
      hosts,
    );
    const r = await prov(ws, ['apply', '-y']);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain('connection refused');
    expect(r.stderr).toContain(h.name);
    const j = await prov(ws, ['apply', '-y', '--json']);
    expect(j.code).toBe(7);
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: 'unavailable', exitCode: 7 });
  });
});
