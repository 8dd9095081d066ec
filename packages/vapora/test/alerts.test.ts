import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { alertFromOutput, matches, triggeredRunId } from '../src/core/alerts.js';
import { checkPipeline } from '../src/core/pipeline.js';
import type { Served } from '../src/server/main.js';
import { cleanupsAfterAll, config, serveOnLoopback, tempDir, waitFor } from './helpers.js';

const cleanups = cleanupsAfterAll();

/** The monitor reports a service down with an alert in its output; the devops agent answers the incident. */
const AGENT = `#!/bin/sh
echo "$1 $VAPORA_TASK_TYPE $VAPORA_PAYLOAD" >> "$(dirname "$0")/calls.log"
case "$VAPORA_TASK_TYPE" in
  health_check)
    if [ "$VAPORA_PAYLOAD_DOWN" = yes ]; then
      printf '{"healthy":false,"alert":{"severity":"%s","message":"%s down","metadata":{"service":"%s","host":"db-1"}}}\\n' "$VAPORA_PAYLOAD_SEVERITY" "$VAPORA_PAYLOAD_SERVICE" "$VAPORA_PAYLOAD_SERVICE"
    else echo '{"healthy":true}'; fi ;;
  respond) echo "restarted $VAPORA_PAYLOAD_SERVICE on $VAPORA_PAYLOAD_HOST because: $VAPORA_PAYLOAD_WHY" ;;
esac
`;

const INCIDENT = `description = "respond to a database that is down"
[inputs.service]
required = true
[inputs.host]
required = true
[inputs.why]
default = ""

[[triggers]]
source = "monitor"
severity = "error"
project = "ops"
match = { service = "postgresql" }
inputs = { service = "{{alert.metadata.service}}", host = "{{alert.metadata.host}}", why = "{{alert.message}} ({{alert.id}})" }

[[triggers]]
source = "ci"
severity = "critical"
project = "ops"
inputs = { service = "{{alert.metadata.service}}", host = "ci" }

[[steps]]
id = "respond"
role = "devops"
type = "respond"
payload = { service = "{{inputs.service}}", host = "{{inputs.host}}", why = "{{inputs.why}}" }
`;

async function served(): Promise<{ s: Served; dir: string; log: string }> {
  const dir = tempDir();
  const pipelines = join(dir, 'pipelines');
  mkdirSync(pipelines);
  writeFileSync(join(dir, 'agent.sh'), AGENT);
  writeFileSync(join(pipelines, 'incident.toml'), INCIDENT);
  const s = await serveOnLoopback(
    config({ storage: { path: join(dir, 'vapora.db') }, pipelines_dir: pipelines, approvals: { roles: [] } }),
    cleanups,
  );
  await s.runtime.service.createProject({ name: 'ops' });
  for (const role of ['monitor', 'devops'])
    await s.runtime.service.addAgent({
      role,
      id: `${role}-1`,
      provider: 'exec',
      command: `sh ${join(dir, 'agent.sh')} ${role}`,
    });
  return { s, dir, log: join(dir, 'calls.log') };
}

describe('alerts start pipelines', () => {
  it('checks triggers: inputs they set must exist, their placeholders read the alert only', () => {
    const steps = [{ id: 'a', role: 'devops' }];
    const def = (trigger: object) => () =>
      checkPipeline(
        { inputs: { service: {} }, steps, triggers: [{ source: 'monitor', project: 'ops', ...trigger }] },
        'p',
      );
    expect(def({ inputs: { service: '{{alert.metadata.service}}' } })).not.toThrow();
    expect(def({ inputs: { colour: 'red' } })).toThrow(/triggers\[0\] sets 'colour', which is not an input/);
    expect(def({ inputs: { service: '{{steps.a.output}}' } })).toThrow(/a trigger's inputs use alert\.id/);
    expect(def({ inputs: { service: '{{alert.metadata}}' } })).toThrow(/alert\.metadata\.<key>/);
    expect(def({ severity: 'panic' })).toThrow(/severity/);
    expect(def({ project: undefined })).toThrow(/project/);
  });

  it('matches on source, least severity and metadata; an agent output carries at most one alert', () => {
    const t = {
      source: 'monitor',
      severity: 'error' as const,
      project: 'ops',
      match: { service: 'postgresql' },
      inputs: {},
    };
    const a = {
      id: 'x',
      source: 'monitor',
      severity: 'critical' as const,
      message: 'm',
      metadata: { service: 'postgresql' },
    };
    expect(matches(t, a)).toBe(true);
    expect(matches(t, { ...a, severity: 'warning' })).toBe(false);
    expect(matches(t, { ...a, source: 'security' })).toBe(false);
    expect(matches(t, { ...a, metadata: { service: 'redis' } })).toBe(false);
    expect(matches(t, { ...a, metadata: {} })).toBe(false);
    const task = { task_id: 't-1', agent_role: 'monitor' };
    expect(alertFromOutput(task, '{"alert":{"message":"down","metadata":{"service":"pg"}}}')).toEqual({
      id: 'task:t-1',
      source: 'monitor',
      severity: 'error',
      message: 'down',
      metadata: { service: 'pg' },
    });
    for (const out of [
      'plain text',
      '{"alert":"down"}',
      '{"alert":{"severity":"panic","message":"x"}}',
      '{not json',
      '[1]',
    ])
      expect(alertFromOutput(task, out), out).toBeUndefined();
    expect(triggeredRunId('a1', 'incident')).toBe(triggeredRunId('a1', 'incident'));
    expect(triggeredRunId('a1', 'incident')).not.toBe(triggeredRunId('a2', 'incident'));
  });

  it("a monitor's finding raises an alert that starts the matching pipeline once, with its inputs", async () => {
    const { s, log } = await served();
    const svc = s.runtime.service;
    const check = async (service: string, severity: string) => {
      const t = await svc.createTask({
        title: `check ${service}`,
        type: 'health_check',
        role: 'monitor',
        project: 'ops',
        payload: { service, down: 'yes', severity },
      });
      await svc.assign(t.id);
      await waitFor(async () => (await svc.taskDetail(t.id)).task.status === 'done', 30_000, `${service} check`);
      return t.id;
    };
    const pg = await check('postgresql', 'critical');
    const run = await waitFor(
      async () => (await svc.listPipelines()).runs.find((r) => r.createdBy === `task:${pg}`),
      30_000,
      'the run the alert starts',
    );
    expect(run.id).toBe(triggeredRunId(`task:${pg}`, 'incident'));
    expect(run.inputs).toEqual({ service: 'postgresql', host: 'db-1', why: `postgresql down (task:${pg})` });
    const done = await waitFor(async () => {
      const v = await svc.pipelineStatus(run.id);
      return v.run.status === 'succeeded' ? v : undefined;
    });
    expect(done.steps[0]!.output).toBe(`restarted postgresql on db-1 because: postgresql down (task:${pg})`);

    // Another service, or a mere warning, matches no trigger: nothing starts.
    await check('redis', 'critical');
    await check('postgresql', 'warning');
    expect((await svc.listPipelines()).runs).toHaveLength(1);
    expect(readFileSync(log, 'utf8').match(/ respond /g)).toHaveLength(1);

    // The same alert again (a redelivery) finds its run.
    const again = await svc.alerts.handle({
      id: `task:${pg}`,
      source: 'monitor',
      severity: 'critical',
      message: 'postgresql down',
      metadata: { service: 'postgresql', host: 'db-1' },
    });
    expect(again.runs).toEqual([{ pipeline: 'incident', run_id: run.id, status: 'duplicate' }]);
    expect((await svc.listPipelines()).runs).toHaveLength(1);
  });

  it('POST /alerts and `vapora alert raise`: one run per alert id, operators may, viewers may not, bad input is 400', async () => {
    const { s } = await served();
    const svc = s.runtime.service;
    const operator = (await svc.createToken({ name: 'ci', role: 'operator' })).token;
    const viewer = (await svc.createToken({ name: 'dash', role: 'viewer' })).token;
    const post = (token: string, body: unknown) =>
      fetch(`${s.address}/alerts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const alert = {
      id: 'build-4711',
      source: 'ci',
      severity: 'critical',
      message: 'restore test failed',
      metadata: { service: 'postgresql' },
    };
    const first = await post(operator, alert);
    expect(first.status).toBe(201);
    expect(first.body.runs).toEqual([
      { pipeline: 'incident', run_id: triggeredRunId('build-4711', 'incident'), status: 'started' },
    ]);
    expect((await post(operator, alert)).body.runs[0].status).toBe('duplicate');
    expect((await post(viewer, alert)).status).toBe(403);
    for (const bad of [
      {},
      { source: 'ci' },
      { ...alert, severity: 'panic' },
      { ...alert, id: 'has spaces' },
      { ...alert, extra: 1 },
    ]) {
      const r = await post(operator, bad);
      expect([JSON.stringify(bad), r.status]).toEqual([JSON.stringify(bad), 400]);
    }
    // A matching trigger whose inputs cannot be filled is reported, not started.
    const noService = await post(operator, { source: 'ci', severity: 'critical', message: 'x', metadata: {} });
    expect(noService.body.runs).toEqual([]);
    expect(noService.body.skipped).toEqual([
      { pipeline: 'incident', reason: expect.stringMatching(/needs the input 'service'|service/) },
    ]);

    const sb = sandbox();
    const env = { ...sb.env, VAPORA_URL: s.address!, VAPORA_TOKEN: operator };
    const cli = await runBin(
      'vapora',
      [
        'alert',
        'raise',
        '--source',
        'ci',
        '--severity',
        'critical',
        '-m',
        'nightly restore failed',
        '--meta',
        'service=postgresql',
        '--id',
        'build-4712',
      ],
      { cwd: sb.cwd, env },
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('alert build-4712 (critical, from ci): nightly restore failed');
    expect(cli.stdout).toMatch(/started: incident run r-\w+ \(vapora pipeline status r-\w+\)/);
    const again = await runBin(
      'vapora',
      [
        'alert',
        'raise',
        '--source',
        'ci',
        '--severity',
        'critical',
        '-m',
        'x',
        '--meta',
        'service=postgresql',
        '--id',
        'build-4712',
        '--json',
      ],
      { cwd: sb.cwd, env },
    );
    expect(JSON.parse(again.stdout).runs[0].status).toBe('duplicate');
    const usage = await runBin('vapora', ['alert', 'raise', '--source', 'ci', '-m', 'x', '--meta', 'novalue'], {
      cwd: sb.cwd,
      env,
    });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--meta 'novalue' is not key=value");
  });
});
