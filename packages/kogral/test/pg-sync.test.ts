import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { type PostgresServer, skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import { pgSync } from '../src/adapters/pg-sync.js';
import { listConflicts } from '../src/core/conflicts.js';
import {
  changedOnBothSides,
  clone,
  concurrentWriters,
  deletedHereChangedThere,
  ids,
  resolveMerged,
  sameTitleOnBothSides,
} from './sync-team.js';

describe.skipIf(skipUnless('postgres'))('kogral sync through a throwaway PostgreSQL', { timeout: 600_000 }, () => {
  let server: PostgresServer;
  let graphs = 0;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A team of clones sharing one graph name on the server (each test its own graph). */
  const team = (...names: string[]) => {
    const graph = `g${++graphs}`;
    return names.map((name) => {
      const dir = join(mkdtempSync(join(tmpdir(), `kogral-pg-${name}-`)), '.kogral');
      const c = clone(dir, name, (store) => pgSync(store, { url: server.url, graph, author: name }));
      /** Through another URL (a server that is down). */
      const syncVia = (url: string) => c.store.lock(() => pgSync(c.store, { url, graph, author: name }));
      return { ...c, syncVia };
    });
  };

  it('creates its schema; add on A is on B; delete on B is gone on A; offline work syncs later', async () => {
    const [a, b] = team('alice', 'bob');
    if (!a || !b) throw new Error('team');
    const n = await a.kg.add({ type: 'note', title: 'Nginx 502', fields: { body: 'Check upstreams.' } });
    expect(await a.sync()).toMatchObject({ pushed: [`notes/${n.node.id}.md`], pulled: [], conflicts: [] });
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    const meta = await c.query("SELECT value FROM kogral_meta WHERE key = 'schema_version'");
    await c.end();
    expect(meta.rows).toEqual([{ value: '1' }]);

    const rb = await b.sync();
    expect(rb.pulled).toEqual([`notes/${n.node.id}.md`]);
    expect(readFileSync(join(b.dir, 'notes', `${n.node.id}.md`), 'utf8')).toBe(readFileSync(n.path, 'utf8'));
    // Incremental: nothing changed, nothing moves.
    expect(await b.sync()).toMatchObject({ pulled: [], pushed: [], removed: [] });

    await b.kg.remove(n.node.id);
    expect((await b.sync()).pushed).toEqual([`notes/${n.node.id}.md`]);
    expect((await a.sync()).removed).toEqual([`notes/${n.node.id}.md`]);
    expect(existsSync(n.path)).toBe(false);

    // Offline: the server is unreachable; nothing changes locally, the work goes out later.
    const m = await a.kg.add({ type: 'note', title: 'Written offline', fields: { body: 'x' } });
    const down = `postgres://postgres@127.0.0.1:1/postgres`;
    await expect(a.syncVia(down)).rejects.toThrow(/cannot reach postgres:\/\/postgres@127\.0\.0\.1:1/);
    expect(readFileSync(m.path, 'utf8')).toContain('Written offline');
    expect((await a.sync()).pushed).toEqual([`notes/${m.node.id}.md`]);
    await b.sync();
    expect(ids(b.store)).toEqual([m.node.id]);
  });

  it('a node edited on both sides: a conflict, both versions kept on both clones, resolved', async () => {
    const [a, b] = team('alice', 'bob');
    if (!a || !b) throw new Error('team');
    const { n, rb } = await changedOnBothSides(a, b);
    const rel = `executions/${n.node.id}.md`;
    expect(rb.conflicts).toEqual([{ path: rel, kind: 'both_changed', theirs: expect.stringMatching(/^conflicts\//) }]);
    const mine = readFileSync(join(b.dir, rel), 'utf8');
    expect(mine).toContain('Bob: leak fixed');
    const [c] = listConflicts(b.store);
    expect(c).toMatchObject({ id: n.node.id, who: 'alice', of: rel });
    expect(readFileSync(c?.path as string, 'utf8')).toContain('Alice: PgBouncer added.');
    expect(b.store.loadAll().problems).toEqual([]);

    // A sees the conflict too after its next sync: nothing lost on either side.
    await a.sync();
    expect(listConflicts(a.store).map((x) => x.id)).toEqual([n.node.id]);
    expect(readFileSync(join(a.dir, rel), 'utf8')).toContain('Bob: leak fixed');
    expect(readFileSync(listConflicts(a.store)[0]?.path as string, 'utf8')).toContain('Alice: PgBouncer added.');

    await resolveMerged(a, b, n.node.id, rel, mine);
  });

  it('deleted on one side, changed on the other: the change is kept; the same new title on both: both kept', async () => {
    const [a, b] = team('alice', 'bob');
    if (!a || !b) throw new Error('team');
    const n = await deletedHereChangedThere(a, b);

    // Changed here, deleted there, the other way round.
    await b.kg.remove(n.node.id);
    await a.kg.edit(n.node.id, { op: 'append', text: 'alice again' });
    await b.sync();
    expect((await a.sync()).conflicts).toEqual([{ path: `notes/${n.node.id}.md`, kind: 'deleted_there' }]);
    expect((await b.sync()).pulled).toEqual([`notes/${n.node.id}.md`]);
    expect(readFileSync(join(b.dir, 'notes', `${n.node.id}.md`), 'utf8')).toContain('alice again');

    const { x } = await sameTitleOnBothSides(a, b);
    expect(readFileSync(join(b.dir, 'notes', `${x.node.id}.md`), 'utf8')).toContain('from bob');
  });

  it("a row over this graph's size limit, or a path leaving the graph folder, is never written here", async () => {
    const [a] = team('alice');
    if (!a) throw new Error('team');
    await a.sync(); // creates the schema
    const graph = `g${graphs}`;
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    const insert = (key: string, path: string, content: Buffer) =>
      c.query(
        `INSERT INTO kogral_nodes (graph, key, path, content, hash, updated_at, author, seq)
         VALUES ($1, $2, $3, $4, 'x', now(), 'mallory', nextval('kogral_seq'))`,
        [graph, key, path, content],
      );
    await insert('huge', 'notes/huge.md', Buffer.alloc(11 * 1024 * 1024, 'a'));
    const r = await a.sync();
    expect(r.skipped).toEqual([
      expect.stringMatching(/^notes\/huge\.md \(from the server: .* over this graph's limit\)/),
    ]);
    expect(existsSync(join(a.dir, 'notes', 'huge.md'))).toBe(false);
    await insert('evil', '../../evil.md', Buffer.from('x'));
    expect((await a.sync()).skipped).toEqual(['"../../evil.md" (from the server: outside the graph folder, refused)']);
    await c.end();
    expect(existsSync(join(a.dir, '..', '..', 'evil.md'))).toBe(false);
  });

  it('a node file broken by hand is never synced as a deletion nor overwritten: theirs is kept beside it', async () => {
    const [a, b] = team('alice', 'bob');
    if (!a || !b) throw new Error('team');
    const n = await a.kg.add({ type: 'note', title: 'Fragile', fields: { body: 'v1' } });
    await a.sync();
    await b.sync();
    const file = join(b.dir, 'notes', `${n.node.id}.md`);
    writeFileSync(file, '---\nid: [unclosed\n---\nhalf-typed edit\n');
    await a.kg.edit(n.node.id, { op: 'append', text: 'alice v2' });
    await a.sync();
    const rb = await b.sync();
    expect(rb.skipped).toEqual([`notes/${n.node.id}.md`]);
    expect(rb.conflicts).toEqual([
      { path: `notes/${n.node.id}.md`, kind: 'both_changed', theirs: expect.stringMatching(/^conflicts\//) },
    ]);
    expect(readFileSync(file, 'utf8')).toContain('half-typed edit');
    expect(readFileSync(join(b.dir, rb.conflicts[0]?.theirs as string), 'utf8')).toContain('alice v2');
    await b.sync();
    await a.sync();
    expect(readFileSync(n.path, 'utf8')).toContain('alice v2'); // no tombstone went out
  });

  it('a moved node follows its id: the old file goes, the new one comes', async () => {
    const [a, b] = team('alice', 'bob');
    if (!a || !b) throw new Error('team');
    const n = await a.kg.add({ type: 'note', title: 'Draft decision', fields: { body: 'x' } });
    await a.sync();
    await b.sync();
    await a.kg.move(n.node.id, { type: 'decision' });
    await a.sync();
    await b.sync();
    expect(existsSync(join(b.dir, 'notes', `${n.node.id}.md`))).toBe(false);
    expect(existsSync(join(b.dir, 'decisions', `${n.node.id}.md`))).toBe(true);
    expect(b.store.loadAll().problems).toEqual([]);
  });

  it('3 writers syncing concurrently 50 times each lose nothing (count and content)', async () => {
    await concurrentWriters(team('ann', 'ben', 'cat'), 50, (m) => m.sync(), 1);
  });

  it('kogral sync --url, conflicts and resolve from the CLI; the password from the environment', async () => {
    const { cwd, env } = sandbox();
    const k = (dir: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
      runBin('kogral', args, { cwd: dir, env: { ...env, ...extra }, timeoutMs: 60_000 });
    const [ann, ben] = [join(cwd, 'ann'), join(cwd, 'ben')];
    for (const d of [ann, ben]) {
      mkdirSync(d);
      expect((await k(d, ['init'])).code).toBe(0);
    }
    const url = server.url;
    const add = await k(ann, ['add', 'note', 'Disk full', '--body', 'rotate logs', '--json']);
    const id = (JSON.parse(add.stdout) as { id: string }).id;
    const s1 = await k(ann, ['sync', '--url', url, '--graph', 'cli']);
    expect(s1.code, s1.stderr).toBe(0);
    expect(s1.stdout).toMatch(/graph 'cli': pull 0, remove 0, push 1 file/);
    const dry = await k(ben, ['sync', '--url', url, '--graph', 'cli', '--dry-run']);
    expect(dry.stdout).toMatch(/would pull 1, would remove 0, would push 0/);
    expect((await k(ben, ['show', id])).code).toBe(4); // a dry run changes nothing
    expect((await k(ben, ['sync', '--url', url, '--graph', 'cli'])).stdout).toMatch(/pull 1,/);
    expect((await k(ben, ['show', id])).stdout).toContain('rotate logs');
    expect((await k(ben, ['search', 'rotate', '--json'])).stdout).toContain(id);

    await k(ann, ['edit', id, '--append', '--body', 'ann: also the WAL']);
    await k(ben, ['edit', id, '--append', '--body', 'ben: bigger disk']);
    await k(ann, ['sync', '--url', url, '--graph', 'cli']);
    const s2 = await k(ben, ['sync', '--url', url, '--graph', 'cli']);
    expect(s2.code).toBe(0);
    expect(s2.stderr).toMatch(/1 conflict\(s\), both versions kept/);
    const listed = await k(ben, ['conflicts']);
    expect(listed.stdout).toContain(id);
    const r = await k(ben, ['resolve', id, '--keep', 'theirs']);
    expect(r.code, r.stderr).toBe(0);
    expect((await k(ben, ['show', id])).stdout).toContain('ann: also the WAL');
    expect((await k(ben, ['conflicts'])).stdout).toMatch(/no conflicts/);

    // Bad input changes nothing: not a PostgreSQL URL (2), a server that is down (7), a wrong password (7).
    expect((await k(ann, ['sync', '--url', 'mysql://x/y'])).code).toBe(2);
    const down = await k(ann, ['sync', '--url', 'postgresql://postgres@127.0.0.1:1/postgres']);
    expect(down.code).toBe(7);
    expect(down.stderr).toMatch(/cannot reach/);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE ROLE sre LOGIN PASSWORD 's3cret'");
    await c.query('GRANT ALL ON ALL TABLES IN SCHEMA public TO sre');
    await c.query('GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO sre');
    await c.end();
    const sreUrl = url.replace('postgres@', 'sre@');
    const ok = await k(ann, ['sync', '--url', sreUrl, '--graph', 'cli'], { KOGRAL_SYNC_PASSWORD: 's3cret' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/graph 'cli': pull 2, remove 0, push 0 file/); // another role, the same graph: ben's version and the conflict

    // [sync] url and graph in the config: a plain `kogral sync` goes to PostgreSQL.
    await k(ann, ['add', 'note', 'From the config', '--body', 'y']);
    await k(ann, ['sync', '--url', url, '--graph', 'cli']);
    appendFileSync(join(ben, '.kogral', 'config.toml'), `\n[sync]\nurl = "${url}"\ngraph = "cli"\n`);
    const plain = await k(ben, ['sync']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/graph 'cli': pull 1, remove 0, push 2 file/); // ann's note in; ben's resolution and the conflict's tombstone out
    expect((await k(ben, ['list'])).stdout).toContain('From the config');

    // The password by reference in the config ([sync] password = "env://…" or "svault://…"), never the password.
    const cfg = join(ann, '.kogral', 'config.toml');
    appendFileSync(cfg, `\n[sync]\nurl = "${sreUrl}"\ngraph = "cli"\npassword = "env://SRE_DB_PASSWORD"\n`);
    const byRef = await k(ann, ['sync'], { SRE_DB_PASSWORD: 's3cret' });
    expect(byRef.code, byRef.stderr).toBe(0);
    expect(byRef.stdout).toMatch(/graph 'cli': pull/);
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('"env://SRE_DB_PASSWORD"', '"s3cret"'));
    const literal = await k(ann, ['sync']);
    expect(literal.code).toBe(3);
    expect(literal.stderr).toContain(
      'a reference (svault://secret/data/<path>#<field> or env://VAR), never the password',
    );
  });
});
