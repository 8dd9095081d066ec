import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { parseToken } from '../src/core/auth.js';
import { startServe } from './helpers.js';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops) await s();
});

/** The same commands, as a user types them; every output as `--json`. */
async function flow(v: (...args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>) {
  const out: unknown[] = [];
  const json = async (...args: string[]) => {
    const r = await v(...args, '--json');
    let doc: unknown;
    try {
      doc = JSON.parse(r.stdout);
    } catch {
      doc = { unparsable: r.stdout, stderr: r.stderr };
    }
    out.push({ args: args.join(' '), code: r.code, doc });
    return doc as Record<string, unknown>;
  };
  await json(
    'agent',
    'add',
    '--role',
    'devops',
    '--provider',
    'anthropic',
    '--model',
    'claude-sonnet-4-6',
    '--name',
    'dev-1',
  );
  await json('agent', 'add', '--role', 'devops', '--name', 'dev-2', '--capacity', '2');
  await json('project', 'create', 'infra', '--description', 'platform');
  const task = (await json(
    'task',
    'create',
    '--project',
    'infra',
    '--type',
    'manifest_validation',
    '--title',
    'Validate K8s manifests',
    '--role',
    'devops',
    '--priority',
    'high',
    '--payload',
    '{"cluster":"prod"}',
  )) as { id: string };
  await json('task', 'list');
  await json('task', 'list', '--project', 'infra', '--status', 'todo');
  await json('task', 'show', task.id);
  await json('task', 'assign', task.id, '--dry-run');
  await json('task', 'move', task.id, 'review');
  await json('agent', 'list');
  await json('agent', 'show', 'dev-1');
  await json('budget', 'set', 'security', '--monthly', '5000', '--weekly', '1500');
  await json('budget', 'set', 'security', '--weekly', '6000'); // refused: above the monthly limit
  await json('budget', 'show');
  await json('route', '--type', 'security_scan', '--role', 'security', '--dry-run');
  await json('costs', '--by', 'role');
  await json('costs', 'reconcile');
  await json('expertise');
  await json('task', 'show', 't-nope'); // not found
  await json('task', 'create', '--type', 'bad type!', '--title', 'x'); // validation
  return out;
}

/** Ids, times and ages differ between two runs; their places and everything else must not. */
function normalize(v: unknown, ids = new Map<string, string>()): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x, ids));
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        /(At|_at|Heartbeat|_age_s)$/.test(k) && typeof x === 'number' ? '<time>' : normalize(x, ids),
      ]),
    );
  }
  if (typeof v === 'string') {
    return v.replace(/\b[tp]-[0-9a-z]{6,8}\b/g, (id) => {
      if (!ids.has(id)) ids.set(id, `<id${ids.size + 1}>`);
      return ids.get(id) as string;
    });
  }
  return v;
}

describe('vapora CLI against a remote vapora serve', () => {
  it('the same flow gives the same --json documents locally and remotely', async () => {
    const local = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, local);
    expect((await v('init')).code).toBe(0);
    const localOut = await flow(v);

    const server = sandbox();
    const init = await runBin('vapora', ['init', '--json'], server);
    const initDoc = JSON.parse(init.stdout);
    expect(initDoc.token_file).toBe(join(server.cwd, '.vapora', 'token'));
    expect(statSync(initDoc.token_file).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(server.cwd, '.vapora', '.gitignore'), 'utf8')).toContain('token');
    const token = readFileSync(initDoc.token_file, 'utf8').trim();
    const s = await startServe(server.cwd, server.env);
    stops.push(() => s.stop());

    const client = sandbox();
    const elsewhere = join(client.cwd, 'elsewhere');
    mkdirSync(elsewhere);
    const env = { ...client.env, VAPORA_URL: s.url, VAPORA_TOKEN: token };
    const remoteOut = await flow((...args) => runBin('vapora', args, { cwd: elsewhere, env }));
    expect(normalize(remoteOut)).toEqual(normalize(localOut));
    // The checks that matter did happen (not two identical failures).
    const codes = (localOut as { args: string; code: number }[]).map((o) => [
      o.args.split(' ').slice(0, 2).join(' '),
      o.code,
    ]);
    expect(codes.filter(([, c]) => c !== 0)).toEqual([
      ['budget set', 3],
      ['task show', 4],
      ['task create', 3],
    ]);

    // Remote without a token, or a wrong one: a clear denial (exit 5), nothing changed.
    const anon = await runBin('vapora', ['task', 'list'], {
      cwd: elsewhere,
      env: { ...client.env, VAPORA_URL: s.url },
    });
    expect([anon.code, anon.stderr]).toEqual([5, expect.stringMatching(/missing token/)]);
    const down = await runBin('vapora', ['task', 'list'], {
      cwd: elsewhere,
      env: { ...env, VAPORA_URL: 'http://127.0.0.1:9' },
    });
    expect([down.code, down.stderr]).toEqual([7, expect.stringMatching(/cannot reach vapora at http:\/\/127.0.0.1:9/)]);
    const worker = await runBin('vapora', ['worker', '--role', 'developer', '--nats', 'nats://127.0.0.1:9'], {
      cwd: elsewhere,
      env,
    });
    expect([worker.code, worker.stderr]).toEqual([2, expect.stringMatching(/works on this machine's store/)]);
  }, 240_000); // ~50 CLI processes, each a Node start

  it('tokens from the CLI: create (shown once), list (never the secret), revoke (the next request is 401)', async () => {
    const server = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, server);
    await v('init');
    await v('project', 'create', 'infra');
    const created = await v(
      'token',
      'create',
      '--name',
      'ci',
      '--role',
      'viewer',
      '--project',
      'infra',
      '--ttl',
      '30d',
    );
    expect(created.code, created.stderr).toBe(0);
    const ciToken = created.stdout.trim();
    expect(ciToken).toMatch(/^vapora_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown once/);
    const list = JSON.parse((await v('token', 'list', '--json')).stdout);
    expect(list.tokens.map((t: { name: string; role: string }) => [t.name, t.role])).toEqual([
      ['admin', 'admin'],
      ['ci', 'viewer'],
    ]);
    expect(JSON.stringify(list)).not.toContain(parseToken(ciToken)!.secret);
    expect((await v('token', 'create', '--name', 'x', '--role', 'root')).code).toBe(2);
    expect((await v('token', 'create', '--name', 'x', '--role', 'viewer', '--ttl', 'soon')).code).toBe(2);

    const s = await startServe(server.cwd, server.env);
    stops.push(() => s.stop());
    const env = { ...server.env, VAPORA_URL: s.url, VAPORA_TOKEN: ciToken };
    const remote = (...args: string[]) => runBin('vapora', args, { cwd: server.cwd, env });
    expect(JSON.parse((await remote('project', 'list', '--json')).stdout).projects).toHaveLength(1);
    const denied = await remote('project', 'create', 'mine');
    expect([denied.code, denied.stderr]).toEqual([5, expect.stringMatching(/may not write project/)]);
    const id = list.tokens[1].id;
    expect((await v('token', 'revoke', id)).code).toBe(0);
    expect((await v('token', 'revoke', id)).code).toBe(6);
    expect((await remote('project', 'list')).code).toBe(5);
  }, 120_000);

  it('serve refuses a non-loopback address without TLS or --insecure (exit 2, saying why)', async () => {
    const { cwd, env } = sandbox();
    await runBin('vapora', ['init'], { cwd, env });
    const r = await runBin('vapora', ['serve', '--host', '0.0.0.0', '--port', '0'], { cwd, env });
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/refusing to listen on 0.0.0.0 without TLS.*--insecure/),
    ]);
  });
});
