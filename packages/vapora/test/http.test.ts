import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, serve } from '../src/server/main.js';
import { config, tempDir, waitFor } from './helpers.js';

let s: Served;
let base: string;
let token: string;

async function call(method: string, path: string, body?: unknown, raw?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  // biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
  return { status: res.status, body: json as any, text };
}

beforeAll(async () => {
  const dir = tempDir();
  s = await serve({
    config: config({
      storage: { path: join(dir, 'vapora.db') },
      agents: { heartbeat_timeout_s: 60 },
      server: { allow_exec_agents_over_api: true },
    }),
    host: '127.0.0.1',
    port: 0,
    coordinatorMs: { dispatch: 100, sweep: 60_000 },
  });
  base = s.address!;
  token = (await s.runtime.service.createToken({ name: 'test', role: 'admin' })).token;
});
afterAll(async () => {
  await s?.close();
});

describe('REST API', () => {
  it('projects CRUD', async () => {
    const c = await call('POST', '/projects', { name: 'infra', description: 'platform' });
    expect(c.status).toBe(201);
    expect((await call('GET', '/projects')).body.projects).toHaveLength(1);
    expect((await call('PUT', `/projects/${c.body.id}`, { description: 'new' })).body.description).toBe('new');
    expect((await call('GET', '/projects/infra')).body.id).toBe(c.body.id);
    expect((await call('POST', '/projects', { name: 'infra' })).status).toBe(409);
    expect((await call('DELETE', '/projects/infra')).status).toBe(200);
    expect((await call('GET', '/projects/infra')).status).toBe(404);
  });

  it('validates every body with zod: unknown fields, wrong types, unknown roles, malformed JSON', async () => {
    const bad = await call('POST', '/tasks', { title: 'x', type: 'deploy', payload: 'not an object' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^invalid task: payload: /);
    expect((await call('POST', '/tasks', { title: 'x', type: 'deploy', colour: 'red' })).body.error.message).toMatch(
      /colour/,
    );
    const role = await call('POST', '/agents', { role: 'wizard' });
    expect([role.status, role.body.error.message]).toEqual([400, expect.stringMatching(/unknown role 'wizard'/)]);
    const json = await call('POST', '/tasks', undefined, '{"title": ');
    expect(json.status).toBe(400);
    expect((await call('GET', '/llm/budget/wizard')).status).toBe(400);
    expect((await call('POST', '/llm/route', { task_type: 'x', role: 'security', max_tokens: -1 })).status).toBe(400);
    expect((await call('GET', '/nope')).status).toBe(404);
    expect((await call('GET', '/tasks')).body.tasks).toEqual([]); // nothing was written
  });

  it('agents, tasks, scored assignment and the in-process worker: a task runs to done', async () => {
    const a = await call('POST', '/agents', {
      role: 'monitor',
      id: 'mon-1',
      provider: 'exec',
      command: 'echo up {{payload.host}}',
    });
    expect(a.status).toBe(201);
    const t = await call('POST', '/tasks', {
      title: 'check',
      type: 'health_check',
      role: 'monitor',
      payload: { host: 'db-1' },
    });
    const dry = await call('POST', '/swarm/assign', { task_id: t.body.id, dry_run: true });
    expect(dry.body).toMatchObject({ dryRun: true, chosen: { agentId: 'mon-1', score: 0.55 } });
    const r = await call('POST', `/tasks/${t.body.id}/assign`, {});
    expect(r.body.chosen.agentId).toBe('mon-1');
    const done = await waitFor(async () => {
      const d = (await call('GET', `/tasks/${t.body.id}`)).body;
      return d.task.status === 'done' ? d : undefined;
    });
    expect(done.task.result.output).toBe('up db-1\n');
    expect(done.executions).toHaveLength(1);
    expect((await call('GET', '/agents/mon-1/health')).body).toMatchObject({
      healthy: true,
      executions: { total: 1, success: 1 },
    });
    expect((await call('GET', '/agents/monitor/expertise')).body.expertise).toMatchObject([
      { agent_id: 'mon-1', task_type: 'health_check', executions: 1, expertise: 1 },
    ]);
    expect((await call('GET', '/swarm/status')).body).toMatchObject({ agents: 1, bus: 'memory' });
    expect((await call('POST', '/agents/mon-1/heartbeat', { status: 'busy', load: 0.5 })).body).toMatchObject({
      status: 'busy',
      load: 0.5,
    });
  });

  it('exec agents: a template that pastes data into shell code is refused; payloads run nothing', async () => {
    const refused = await call('POST', '/agents', {
      role: 'monitor',
      id: 'mon-sh',
      provider: 'exec',
      command: '/bin/sh -c "echo {{payload.host}}"',
    });
    expect([refused.status, refused.body.error.message]).toEqual([
      400,
      expect.stringMatching(/interpolates \{\{payload.host\}\} into shell code.*VAPORA_PAYLOAD_HOST/),
    ]);
    expect((await call('GET', '/agents/mon-sh')).status).toBe(404);
    const dir = tempDir();
    const marker = join(dir, 'INJECTED');
    await call('POST', '/agents', {
      role: 'monitor',
      id: 'mon-env',
      provider: 'exec',
      command: `sh -c 'printf "%s" "$VAPORA_PAYLOAD_HOST" > ${join(dir, 'out')}; echo ok'`,
    });
    for (const host of [
      `a; touch ${marker}`,
      `a && touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `a\ntouch ${marker}`,
      `'"; touch ${marker}`,
    ]) {
      const t = await call('POST', '/tasks', { title: 'x', type: 'health_check', role: 'monitor', payload: { host } });
      await call('POST', `/tasks/${t.body.id}/assign`, { agent_id: 'mon-env' });
      const d = await waitFor(async () => {
        const x = (await call('GET', `/tasks/${t.body.id}`)).body;
        return x.task.status === 'done' ? x : undefined;
      });
      expect(d.task.result.output).toBe('ok\n');
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(host);
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('routes, budgets and costs', async () => {
    const put = await call('PUT', '/llm/budget/security', { monthly: 5000, weekly: 1500 });
    expect(put.body).toMatchObject({
      role: 'security',
      state: 'normal',
      month: { limit_cents: 5000, spent_cents: 0 },
      week: { limit_cents: 1500 },
    });
    const weekAboveMonth = await call('PUT', '/llm/budget/security', { weekly: 6000 });
    expect([weekAboveMonth.status, weekAboveMonth.body.error.message]).toEqual([
      400,
      'the weekly limit (6000¢) is above the monthly one (5000¢)',
    ]);
    expect((await call('GET', '/llm/budget/security')).body.week.limit_cents).toBe(1500);
    const route = await call('POST', '/llm/route', { task_type: 'security_scan', role: 'security' });
    expect(route.body).toMatchObject({
      state: 'normal',
      route: { primary: { provider: 'anthropic', model: 'claude-opus-4-5' } },
    });
    expect((await call('GET', '/llm/budget/security')).body.on_exceeded).toBe('downgrade');
    // Commands (exec) are not LLM calls: they leave no cost record.
    expect((await call('GET', '/llm/costs?by=role')).body).toEqual({ by: 'role', costs: [] });
    expect((await call('GET', '/llm/costs?by=colour')).status).toBe(400);
  });

  it('serves Prometheus metrics with the seed names and labels', async () => {
    const m = await call('GET', '/metrics');
    for (const name of [
      'vapora_budget_utilization_ratio',
      'vapora_budget_exceeded_total',
      'vapora_fallback_triggers_total',
      'vapora_active_agents',
      'vapora_task_duration_seconds',
      'vapora_task_status_total',
      'vapora_llm_cost_cents_total',
      'vapora_tokens_used_total',
    ]) {
      expect(m.text).toContain(`# TYPE ${name}`);
    }
    expect(m.text).toContain('vapora_task_status_total{role="monitor",status="success"} 7'); // 1 health check + 6 injection tries
    expect(m.text).toContain('vapora_budget_utilization_ratio{role="security",period="monthly"} 0');
    expect(m.text).toMatch(/vapora_active_agents\{role="monitor",status="(ready|busy)"\} [12]/); // mon-1 and mon-env
  });
});
