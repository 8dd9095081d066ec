import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseToken } from '../src/core/auth.js';
import { checkExposure, type Served, serve } from '../src/server/main.js';
import { config, tempDir } from './helpers.js';

let s: Served;
let base: string;
let dir: string;
const tokens: Record<string, string> = {};
let infraTask: string;
let otherTask: string;

async function call(token: string | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  // biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
  return { status: res.status, body: json as any, text, headers: res.headers };
}

/** Every route the API serves, with a body where it takes one. */
const ROUTES: [string, string, unknown?][] = [
  ['GET', '/projects'],
  ['POST', '/projects', { name: 'x' }],
  ['GET', '/projects/infra'],
  ['PUT', '/projects/infra', { description: 'x' }],
  ['DELETE', '/projects/infra'],
  ['GET', '/tasks'],
  ['POST', '/tasks', { title: 'x', type: 'deploy' }],
  ['GET', '/tasks/t-1'],
  ['PUT', '/tasks/t-1', { title: 'y' }],
  ['DELETE', '/tasks/t-1'],
  ['POST', '/tasks/t-1/assign', {}],
  ['GET', '/agents'],
  ['POST', '/agents', { role: 'developer' }],
  ['GET', '/agents/a-1'],
  ['GET', '/agents/a-1/health'],
  ['GET', '/agents/developer/expertise'],
  ['GET', '/expertise'],
  ['POST', '/agents/a-1/heartbeat', {}],
  ['POST', '/llm/route', { task_type: 'x', role: 'developer' }],
  ['GET', '/llm/budget'],
  ['GET', '/llm/budget/security'],
  ['PUT', '/llm/budget/security', { monthly: 1 }],
  ['GET', '/llm/costs'],
  ['GET', '/llm/costs/unsettled'],
  ['POST', '/llm/costs/c-1/reconcile', { actual_cents: 1 }],
  ['POST', '/swarm/assign', { task_id: 't-1' }],
  ['GET', '/swarm/status'],
  ['POST', '/alerts', { source: 'ci', message: 'x' }],
  ['GET', '/tokens'],
  ['POST', '/tokens', { name: 'x', role: 'viewer' }],
  ['DELETE', '/tokens/abc'],
  ['GET', '/no-such-route'],
];

beforeAll(async () => {
  dir = tempDir();
  const projectFile = join(dir, 'vapora.toml');
  writeFileSync(projectFile, '');
  s = await serve({
    config: config({ storage: { path: join(dir, 'vapora.db') } }),
    projectFile,
    host: '127.0.0.1',
    port: 0,
    coordinatorMs: { dispatch: 100, sweep: 60_000 },
  });
  base = s.address!;
  const svc = s.runtime.service;
  tokens.admin = (await svc.createToken({ name: 'root', role: 'admin' })).token;
  const infra = await svc.createProject({ name: 'infra' });
  await svc.createProject({ name: 'web' });
  infraTask = (await svc.createTask({ title: 'rotate certs', type: 'deploy', project: 'infra' })).id;
  otherTask = (await svc.createTask({ title: 'new landing page', type: 'build', project: 'web' })).id;
  tokens.viewer = (await svc.createToken({ name: 'dash', role: 'viewer' })).token;
  tokens.operator = (await svc.createToken({ name: 'ci', role: 'operator', projects: [infra.id] })).token;
});
afterAll(async () => {
  await s?.close();
});

describe('REST authentication and authorization', () => {
  it('every route but /health answers 401 without a token, or with a wrong, malformed or revoked one', async () => {
    for (const [method, path, body] of ROUTES) {
      const r = await call(undefined, method, path, body);
      expect([method, path, r.status, r.body?.error?.message]).toEqual([method, path, 401, 'missing token']);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="vapora"');
    }
    const forged = `${tokens.admin!.slice(0, -4)}AAAA`;
    for (const bad of [forged, 'vapora_nope', `${tokens.admin} `.repeat(2)]) {
      expect((await call(bad, 'GET', '/projects')).status).toBe(401);
    }
    const temp = await call(tokens.admin, 'POST', '/tokens', { name: 'temp', role: 'admin' });
    expect(temp.status).toBe(201);
    expect((await call(temp.body.token, 'GET', '/projects')).status).toBe(200);
    expect((await call(tokens.admin, 'DELETE', `/tokens/${temp.body.id}`)).body.revokedAt).toBeTypeOf('number');
    expect((await call(temp.body.token, 'GET', '/projects')).body.error.message).toBe(
      'invalid, expired or revoked token',
    );
    expect((await call(undefined, 'GET', '/health')).body).toMatchObject({ status: 'ok', bus: 'memory' });
    // Loopback bind: /metrics is open to the machine's own scrapers.
    expect((await call(undefined, 'GET', '/metrics')).status).toBe(200);
  });

  it('tokens are stored hashed: the database never holds the secret', async () => {
    const rows = await s.runtime.store.listTokens();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const stored = JSON.stringify(await Promise.all(rows.map((t) => s.runtime.store.getToken(t.id))));
    for (const t of Object.values(tokens)) expect(stored).not.toContain(parseToken(t)!.secret); // (a secret may itself contain '_')
  });

  it('a viewer reads but every write is 403; an operator cannot manage agents, budgets or tokens', async () => {
    expect((await call(tokens.viewer, 'GET', '/tasks')).body.tasks).toHaveLength(2);
    expect((await call(tokens.viewer, 'GET', '/llm/budget/security')).status).toBe(200);
    const writes = ROUTES.filter(([m, p]) => m !== 'GET' && p !== '/llm/route');
    for (const [method, path, body] of writes) {
      const r = await call(tokens.viewer, method, path, body);
      expect([method, path, r.status]).toEqual([method, path, 403]);
    }
    expect((await call(tokens.viewer, 'GET', '/tokens')).status).toBe(403);
    expect((await call(tokens.viewer, 'POST', '/llm/route', { task_type: 'x', role: 'developer' })).status).toBe(200);
    const send = await call(tokens.viewer, 'POST', '/llm/route', {
      task_type: 'x',
      role: 'developer',
      prompt: 'hi',
      send: true,
    });
    expect([send.status, send.body.error.message]).toEqual([403, "token 'dash' (viewer) may not call llm"]);
    for (const [method, path, body] of [
      ['POST', '/agents', { role: 'developer' }],
      ['PUT', '/llm/budget/security', { monthly: 100 }],
      ['POST', '/tokens', { name: 'mine', role: 'admin' }],
      ['GET', '/tokens'],
    ] as const) {
      expect([path, (await call(tokens.operator, method, path, body)).status]).toEqual([path, 403]);
    }
    expect((await s.runtime.store.listAgents()).length).toBe(0); // nothing was written
  });

  it("a project-scoped token sees only its projects: another project's task is 404, as if absent", async () => {
    const op = tokens.operator;
    expect((await call(op, 'GET', '/tasks')).body.tasks.map((t: { id: string }) => t.id)).toEqual([infraTask]);
    expect((await call(op, 'GET', '/projects')).body.projects.map((p: { name: string }) => p.name)).toEqual(['infra']);
    for (const [method, path, body] of [
      ['GET', `/tasks/${otherTask}`],
      ['PUT', `/tasks/${otherTask}`, { title: 'mine now' }],
      ['DELETE', `/tasks/${otherTask}`],
      ['POST', `/tasks/${otherTask}/assign`, { dry_run: true }],
      ['POST', '/swarm/assign', { task_id: otherTask, dry_run: true }],
      ['GET', '/projects/web'],
      ['GET', '/tasks?project=web'],
    ] as const) {
      expect([method, path, (await call(op, method, path, body)).status]).toEqual([method, path, 404]);
    }
    expect((await call(op, 'POST', '/tasks', { title: 'x', type: 'deploy', project: 'web' })).status).toBe(404);
    expect((await call(op, 'POST', '/tasks', { title: 'x', type: 'deploy' })).status).toBe(400);
    expect((await call(op, 'POST', '/projects', { name: 'sneaky' })).status).toBe(403);
    const mine = await call(op, 'POST', '/tasks', { title: 'renew', type: 'deploy', project: 'infra' });
    expect(mine.status).toBe(201);
    expect((await call(op, 'PUT', `/tasks/${infraTask}`, { priority: 'high' })).body.priority).toBe('high');
    expect((await s.runtime.service.getTask(otherTask)).title).toBe('new landing page');
  });

  it("the team's Cedar file takes effect without a restart; a file that does not parse denies everything", async () => {
    const file = join(dir, 'policies.cedar');
    expect((await call(tokens.viewer, 'GET', '/llm/costs')).status).toBe(200);
    writeFileSync(file, 'forbid (principal in Vapora::Role::"viewer", action, resource == Vapora::Kind::"cost");\n');
    expect((await call(tokens.viewer, 'GET', '/llm/costs')).status).toBe(403);
    expect((await call(tokens.viewer, 'GET', '/tasks')).status).toBe(200);
    writeFileSync(file, 'permit (principal, action, resource) when { oops };\n');
    const broken = await call(tokens.admin, 'GET', '/tasks');
    expect([broken.status, broken.body.error.message]).toEqual([
      403,
      expect.stringMatching(/^every request is denied: .*policies\.cedar do not parse/),
    ]);
    writeFileSync(file, '// nothing extra\n');
    expect((await call(tokens.viewer, 'GET', '/llm/costs')).status).toBe(200);
    expect((await call(tokens.admin, 'GET', '/tasks')).status).toBe(200);
  });

  it('exec agents cannot be defined over the API unless the server allows it', async () => {
    const r = await call(tokens.admin, 'POST', '/agents', {
      role: 'monitor',
      provider: 'exec',
      command: 'touch PWNED-{{task.id}}',
    });
    expect([r.status, r.body.error.message]).toEqual([
      403,
      'exec agents (commands run on the server) cannot be defined over the API',
    ]);
    expect((await call(tokens.admin, 'POST', '/agents', { role: 'monitor', command: 'true' })).status).toBe(403);
    expect(await s.runtime.store.listAgents()).toEqual([]);
  });

  it('listening beyond loopback needs TLS or an explicit --insecure', () => {
    expect(() => checkExposure('0.0.0.0', false, false)).toThrow(/refusing to listen on 0.0.0.0 without TLS/);
    expect(() => checkExposure('0.0.0.0', true, false)).not.toThrow();
    expect(() => checkExposure('10.1.2.3', false, true)).not.toThrow();
    for (const h of ['127.0.0.1', '127.0.0.53', 'localhost', '::1'])
      expect(() => checkExposure(h, false, false)).not.toThrow();
  });
});
