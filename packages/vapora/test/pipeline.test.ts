import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteDriver } from '@stratumiops/shared/sql/sqlite';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { sqlStore } from '../src/adapters/sql/index.js';
import { checkPipeline } from '../src/core/pipeline.js';
import type { Served } from '../src/server/main.js';
import { cleanupsAfterAll, config, serveOnLoopback, startServe, tempDir, waitFor } from './helpers.js';

const cleanups = cleanupsAfterAll();

/** One script for every agent: it logs each call and answers by task type, reading earlier outputs from env. */
const AGENT = `#!/bin/sh
echo "$1 $VAPORA_TASK_TYPE $VAPORA_PAYLOAD" >> "$(dirname "$0")/calls.log"
case "$VAPORA_TASK_TYPE" in
  design) echo "design of $VAPORA_PAYLOAD_SERVICE" ;;
  build) [ -n "$VAPORA_PAYLOAD_SLOW" ] && sleep "$VAPORA_PAYLOAD_SLOW"; printf '{"code":"built from %s","files":3}\\n' "$VAPORA_PAYLOAD_SPEC" ;;
  review) echo "reviewed $VAPORA_PAYLOAD_CODE" ;;
  test) if [ "$VAPORA_PAYLOAD_FAIL" = "yes" ]; then echo "2 tests failed" >&2; exit 1; fi; echo "passed: $VAPORA_PAYLOAD_REVIEW" ;;
  audit) printf '{"block":%s,"reason":"CVE-2026-1234 in a dependency"}\\n' "$VAPORA_PAYLOAD_BLOCK" ;;
  rollback) echo "undid $VAPORA_PAYLOAD_STEP" ;;
esac
`;

const SHIP = `description = "design, build, review and test a change"
[inputs.service]
required = true
[inputs.fail]
default = "no"
[inputs.slow]
default = ""

[[steps]]
id = "design"
role = "architect"
type = "design"
title = "Design {{inputs.service}}"
payload = { service = "{{inputs.service}}" }

[[steps]]
id = "build"
role = "developer"
type = "build"
payload = { spec = "{{steps.design.output}}", slow = "{{inputs.slow}}" }
[steps.rollback]
role = "developer"
type = "rollback"
payload = { step = "build" }

[[steps]]
id = "review"
role = "code-reviewer"
type = "review"
payload = { code = "{{steps.build.output.code}}" }
[steps.rollback]
role = "developer"
type = "rollback"
payload = { step = "review" }

[[steps]]
id = "test"
role = "tester"
type = "test"
payload = { review = "{{steps.review.output}}", fail = "{{inputs.fail}}" }
`;

const AUDITED = `[inputs.block]
default = "false"
[[steps]]
id = "build"
role = "developer"
type = "build"
payload = { spec = "x" }
[steps.rollback]
role = "developer"
type = "rollback"
payload = { step = "build" }
[[steps]]
id = "audit"
role = "security"
type = "audit"
payload = { block = "{{inputs.block}}" }
[[steps]]
id = "release"
role = "developer"
type = "design"
approval = true
`;

function project(): { dir: string; pipelines: string; log: string } {
  const dir = tempDir();
  const pipelines = join(dir, 'pipelines');
  mkdirSync(pipelines);
  writeFileSync(join(dir, 'agent.sh'), AGENT);
  writeFileSync(join(pipelines, 'ship.toml'), SHIP);
  writeFileSync(join(pipelines, 'audited.toml'), AUDITED);
  return { dir, pipelines, log: join(dir, 'calls.log') };
}

async function served(p: ReturnType<typeof project>): Promise<Served> {
  const s = await serveOnLoopback(
    config({
      storage: { path: join(p.dir, 'vapora.db') },
      pipelines_dir: p.pipelines,
      approvals: { roles: [] },
    }),
    cleanups,
  );
  for (const role of ['architect', 'developer', 'code-reviewer', 'tester', 'security'])
    await s.runtime.service.addAgent({
      role,
      id: `${role}-1`,
      provider: 'exec',
      command: `sh ${join(p.dir, 'agent.sh')} ${role}`,
    });
  return s;
}

const finished = (s: Served, id: string) =>
  waitFor(
    async () => {
      const v = await s.runtime.service.pipelineStatus(id);
      return ['succeeded', 'rolled_back', 'rollback_failed', 'cancelled', 'failed'].includes(v.run.status)
        ? v
        : undefined;
    },
    30_000,
    `run ${id} to end`,
  );

describe('pipelines', () => {
  it('checks definitions: unknown dependency, cycle, unknown variable, a step reading one it does not follow', () => {
    const bad = (steps: string) => () => checkPipeline({ steps: JSON.parse(steps) }, 'p');
    expect(bad('[{"id":"a","role":"developer","depends_on":["b"]}]')).toThrow(/depends on 'b', which is not a step/);
    expect(
      bad('[{"id":"a","role":"developer","depends_on":["b"]},{"id":"b","role":"tester","depends_on":["a"]}]'),
    ).toThrow(/a, b depend on each other in a cycle/);
    expect(bad('[{"id":"a","role":"developer","title":"{{inputs.nope}}"}]')).toThrow(/unknown input 'nope'/);
    expect(
      bad('[{"id":"a","role":"developer"},{"id":"b","role":"tester","depends_on":[],"title":"{{steps.a.output}}"}]'),
    ).toThrow(/'b' does not \(even indirectly\) depend on 'a'/);
    expect(bad('[{"id":"a","role":"wizard"}]')).toThrow(/unknown role 'wizard'/);
    expect(bad('[{"id":"a","role":"developer"},{"id":"a","role":"tester"}]')).toThrow(/'a' appears twice/);
  });

  it('architect → developer → reviewer → tester: outputs passed on (JSON by field), one task per step', async () => {
    const p = project();
    const s = await served(p);
    const svc = s.runtime.service;
    await expect(svc.startPipeline('ship', { inputs: {} })).rejects.toThrow(/needs the input 'service'/);
    await expect(svc.startPipeline('ship', { inputs: { service: 'api', colour: 'red' } })).rejects.toThrow(
      /has no input 'colour'/,
    );
    await expect(svc.startPipeline('nope', {})).rejects.toMatchObject({ code: 'notFound' });
    const started = await svc.startPipeline('ship', { inputs: { service: 'api' } });
    const v = await finished(s, started.run.id);
    expect(v.run.status).toBe('succeeded');
    expect(v.steps.map((x) => [x.step, x.status, x.agent])).toEqual([
      ['design', 'done', 'architect-1'],
      ['build', 'done', 'developer-1'],
      ['review', 'done', 'code-reviewer-1'],
      ['test', 'done', 'tester-1'],
    ]);
    expect(v.steps[1]!.output).toEqual({ code: 'built from design of api', files: 3 });
    expect(v.steps[3]!.output).toBe('passed: reviewed built from design of api');
    expect(readFileSync(p.log, 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('a failing tester step rolls back the completed steps in reverse; a Security block stops a run', async () => {
    const p = project();
    const s = await served(p);
    const svc = s.runtime.service;
    const failing = await svc.startPipeline('ship', { inputs: { service: 'api', fail: 'yes' } });
    const v = await finished(s, failing.run.id);
    expect(v.run).toMatchObject({ status: 'rolled_back', error: expect.stringMatching(/^step 'test' failed: /) });
    const rollbacks = readFileSync(p.log, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.includes(' rollback '));
    expect(rollbacks.map((l) => JSON.parse(l.split(' ').slice(2).join(' ')).step)).toEqual(['review', 'build']);
    expect(v.steps.filter((x) => x.phase === 'rollback').map((x) => [x.step, x.status])).toEqual([
      ['review', 'done'],
      ['build', 'done'],
    ]);

    const blocked = await svc.startPipeline('audited', { inputs: { block: 'true' } });
    const b = await finished(s, blocked.run.id);
    expect(b.run).toMatchObject({
      status: 'rolled_back',
      error: "blocked by security step 'audit': CVE-2026-1234 in a dependency",
    });
    expect(b.steps.find((x) => x.step === 'release')).toMatchObject({ status: 'pending', task_id: null });

    // Not blocked: the release step waits at its gate until a person approves it.
    const gated = await svc.startPipeline('audited', { inputs: {} });
    const waiting = await waitFor(async () => {
      const x = await svc.pipelineStatus(gated.run.id);
      return x.steps.find((st) => st.step === 'release' && st.status === 'waiting') ? x : undefined;
    });
    expect(waiting.run.status).toBe('running');
    expect((await svc.listApprovals()).map((a) => [a.kind, a.runId, a.stepId])).toEqual([
      ['step', gated.run.id, 'release'],
    ]);
    await svc.approve(`${gated.run.id}/release`, { reason: 'ship it' });
    expect((await finished(s, gated.run.id)).run.status).toBe('succeeded');

    const rejected = await svc.startPipeline('audited', { inputs: {} });
    await waitFor(async () => (await svc.listApprovals()).find((a) => a.runId === rejected.run.id));
    await svc.reject(`${rejected.run.id}/release`, { reason: 'freeze' });
    expect((await finished(s, rejected.run.id)).run).toMatchObject({
      status: 'rolled_back',
      error: "step 'release' rejected by local: freeze",
    });
  });

  it('role approvals in a run: its starter cannot approve a step; a passed gate is not asked again', async () => {
    const p = project();
    writeFileSync(
      join(p.pipelines, 'ops.toml'),
      '[[steps]]\nid = "restart"\nrole = "devops"\ntype = "design"\npayload = { service = "db" }\n' +
        '[[steps]]\nid = "announce"\nrole = "devops"\ntype = "design"\napproval = true\npayload = { service = "all" }\n',
    );
    // devops gated
    const s = await serveOnLoopback(
      config({ storage: { path: join(p.dir, 'vapora.db') }, pipelines_dir: p.pipelines }),
      cleanups,
    );
    const svc = s.runtime.service;
    await svc.addAgent({
      role: 'devops',
      id: 'dev-1',
      provider: 'exec',
      command: `sh ${join(p.dir, 'agent.sh')} devops`,
    });
    const alice = (await svc.authenticate((await svc.createToken({ name: 'alice', role: 'operator' })).token))!;
    const bob = (await svc.authenticate((await svc.createToken({ name: 'bob', role: 'operator' })).token))!;
    const run = await svc.startPipeline('ops', {}, alice);
    // The devops step waits for its role's approval, asked for by alice: she may not decide it.
    const [role] = await waitFor(async () => {
      const a = await svc.listApprovals();
      return a.length ? a : undefined;
    });
    expect(role).toMatchObject({ kind: 'run', role: 'devops', requestedBy: alice.tokenId });
    await expect(svc.approve(role!.id, {}, alice)).rejects.toMatchObject({ code: 'denied' });
    await svc.approve(role!.id, {}, bob);
    // The gated step: one approval (its gate), not a second one for its role.
    const gate = await waitFor(async () => (await svc.listApprovals()).find((a) => a.kind === 'step'));
    // A token scoped to another project cannot see (nor decide) this run's gate.
    await svc.createProject({ name: 'other' });
    const carol = (await svc.authenticate(
      (
        await svc.createToken({ name: 'carol', role: 'operator', projects: ['other'] })
      ).token,
    ))!;
    await expect(svc.approve(gate.id, {}, carol)).rejects.toMatchObject({ code: 'notFound' });
    await svc.approve(gate.id, {}, bob);
    expect((await finished(s, run.run.id)).run.status).toBe('succeeded');
    expect((await svc.listApprovals({ all: true })).map((a) => a.kind)).toEqual(['run', 'step']);
  });

  it('kill -9 of vapora serve mid-pipeline: after a restart the run resumes and completes once', async () => {
    const p = project();
    const { cwd, env } = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, { cwd, env });
    expect((await v('init')).code).toBe(0);
    writeFileSync(
      join(cwd, '.vapora', 'vapora.toml'),
      `pipelines_dir = ${JSON.stringify(p.pipelines)}\n[approvals]\nroles = []\n[nats]\nack_wait_ms = 2000\n`,
    );
    for (const role of ['architect', 'developer', 'code-reviewer', 'tester'])
      expect(
        (
          await v(
            'agent',
            'add',
            '--role',
            role,
            '--provider',
            'exec',
            '--command',
            `sh ${join(p.dir, 'agent.sh')} ${role}`,
          )
        ).code,
      ).toBe(0);
    const run = JSON.parse(
      (await v('pipeline', 'run', 'ship', '--input', 'service=api', '--input', 'slow=3', '--json')).stdout,
    );
    expect(run.run.status).toBe('running');
    const first = await startServe(cwd, env);
    cleanups.push(() => first.stop('SIGKILL'));
    await waitFor(() => readFileSync(p.log, 'utf8').includes('developer build'), 20_000, 'the build step to start');
    await first.stop('SIGKILL');
    const second = await startServe(cwd, env);
    cleanups.push(() => second.stop());
    const store = sqlStore(new SqliteDriver(join(cwd, '.vapora', 'vapora.db')));
    cleanups.push(() => store.close());
    await waitFor(async () => (await store.getRun(run.run.id))?.status === 'succeeded', 40_000, 'the run to succeed');
    const calls = readFileSync(p.log, 'utf8').trim().split('\n');
    expect(calls.filter((l) => l.startsWith('architect '))).toHaveLength(1);
    expect(calls.filter((l) => l.startsWith('tester '))).toHaveLength(1);
    // The build was cut by the kill and ran again; its task completed once.
    const build = (await store.listSteps(run.run.id)).find((x) => x.stepId === 'build')!;
    expect(await store.listExecutions({ taskId: build.taskId! })).toHaveLength(1);
    const status = JSON.parse((await v('pipeline', 'status', run.run.id, '--json')).stdout);
    expect(status.steps.map((x: { status: string }) => x.status)).toEqual(['done', 'done', 'done', 'done']);
  }, 120_000);
});
