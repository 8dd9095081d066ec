import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type NatsServer, skipUnless, startNats } from '../../shared/src/testing/index.js';
import { DLQ_STREAM, type JetStreamBus } from '../src/adapters/bus-jetstream.js';
import type { MemoryBus } from '../src/adapters/bus-memory.js';
import { assignSubject, encodeJson } from '../src/core/bus.js';
import { Coordinator } from '../src/core/coordinator.js';
import { Worker } from '../src/core/worker.js';
import { openRuntime, type Runtime } from '../src/runtime.js';
import { config, execResult, tempDir, waitFor } from './helpers.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'run.js');
const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).length : 0);

interface Env {
  rt: Runtime;
  coordinator: Coordinator;
  workers: Worker[];
  dir: string;
}

let nats: NatsServer | undefined;
const open: Env[] = [];
beforeAll(async () => {
  if (!skipUnless('nats')) nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});
afterEach(async () => {
  for (const e of open.splice(0)) {
    for (const w of e.workers) await w.stop().catch(() => {});
    await e.coordinator.stop();
    await e.rt.close();
  }
});

async function env(
  kind: 'jetstream' | 'memory',
  extra: { execTimeoutMs?: number; maxDeliver?: number; approvalTimeoutS?: number } = {},
): Promise<Env> {
  const dir = tempDir();
  const rt = await openRuntime({
    config: config({
      storage: { path: join(dir, 'vapora.db') },
      nats: {
        url: kind === 'jetstream' ? nats!.url : '',
        ack_wait_ms: 1500,
        max_deliver: extra.maxDeliver ?? 3,
        nak_delay_ms: 50,
      },
      providers: { exec: { timeout_ms: extra.execTimeoutMs ?? 10_000 } },
      approvals: { timeout_s: extra.approvalTimeoutS ?? 0 },
    }),
    bus: kind === 'jetstream' ? true : 'memory',
  });
  const coordinator = new Coordinator(rt.service, rt.bus!, { dispatchMs: 200, sweepMs: 60_000 });
  await coordinator.start();
  const e = { rt, coordinator, workers: [], dir };
  open.push(e);
  return e;
}

async function worker(e: Env, agentId: string): Promise<Worker> {
  const a = await e.rt.service.getAgent(agentId);
  const w = new Worker({
    bus: e.rt.bus!,
    router: e.rt.router,
    agent: a,
    nakDelayMs: 50,
    heartbeatMs: 1000,
    workingMs: 500,
  });
  await w.start();
  e.workers.push(w);
  return w;
}

const finished = (e: Env, id: string) =>
  waitFor(
    async () => {
      const t = await e.rt.service.getTask(id);
      return ['done', 'review', 'failed'].includes(t.status) ? t : undefined;
    },
    20_000,
    `task ${id} to finish`,
  );

const scenarios = (kind: 'jetstream' | 'memory', skip: boolean) => {
  describe.skipIf(skip)(`bus: ${kind}`, () => {
    it('assign → worker → result round trip, applied once, heartbeats keep the agent alive', async () => {
      const e = await env(kind);
      await e.rt.service.addAgent({
        role: 'monitor',
        id: 'mon-1',
        provider: 'exec',
        command: 'echo checked {{payload.host}}',
      });
      await worker(e, 'mon-1');
      // Data never becomes code: the payload reaches the command as one literal argument.
      const marker = join(e.dir, 'INJECTED');
      const host = `db-1; touch ${marker} && $(touch ${marker}) \`touch ${marker}\`\n'"`;
      const t = await e.rt.service.createTask({
        title: 'check',
        type: 'health_check',
        role: 'monitor',
        payload: { host },
      });
      const a = await e.rt.service.assign(t.id);
      expect(a.dispatched).toBe(true);
      const done = await finished(e, t.id);
      expect(done).toMatchObject({ status: 'done', result: { output: `checked ${host}\n`, provider: 'exec' } });
      expect(existsSync(marker)).toBe(false);
      expect(await e.rt.store.listExecutions({ taskId: t.id })).toMatchObject([
        { outcome: 'success', agentId: 'mon-1' },
      ]);
      expect((await e.rt.service.getAgent('mon-1')).load).toBe(0);
      // The same assignment published again is dropped by its dedup id.
      expect(await e.rt.bus!.publishAssignment(await e.rt.service.assignmentOf(done))).toEqual({ duplicate: true });
    });

    it('DevOps work waits for approval: it runs once approved, fails when rejected; a failing command fails once', async () => {
      const e = await env(kind);
      await e.rt.service.addAgent({
        role: 'devops',
        id: 'dev-1',
        provider: 'exec',
        command: 'sh -c \'echo "deployed $VAPORA_PAYLOAD_SERVICE"; exit "$VAPORA_PAYLOAD_CODE"\'',
      });
      await worker(e, 'dev-1');
      const svc = e.rt.service;
      const ok = await svc.createTask({
        title: 'ok',
        type: 'deploy',
        role: 'devops',
        payload: { code: 0, service: 'api' },
      });
      const asked = await svc.assign(ok.id);
      expect(asked).toMatchObject({ dispatched: false, task: { status: 'awaiting_approval' } });
      expect(asked.approval).toMatchObject({ kind: 'run', role: 'devops', status: 'pending', taskId: ok.id });
      expect((await svc.listApprovals()).map((a) => a.taskId)).toEqual([ok.id]);
      expect(await e.rt.store.listExecutions({ taskId: ok.id })).toEqual([]); // nothing ran
      await expect(svc.assign(ok.id)).rejects.toMatchObject({ code: 'conflict' });
      expect(await svc.approve(ok.id, { reason: 'change window ok' })).toMatchObject({
        status: 'approved',
        reason: 'change window ok',
        decidedBy: 'local',
      });
      expect(await finished(e, ok.id)).toMatchObject({ status: 'done', result: { output: 'deployed api\n' } });
      await expect(svc.approve(ok.id, {})).rejects.toMatchObject({ code: 'notFound' });

      const bad = await svc.createTask({
        title: 'bad',
        type: 'deploy',
        role: 'devops',
        payload: { code: 2, service: 'x' },
      });
      await svc.assign(bad.id);
      await svc.approve(bad.id, {});
      expect(await finished(e, bad.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/exit 2/) });

      const no = await svc.createTask({
        title: 'no',
        type: 'deploy',
        role: 'devops',
        payload: { code: 0, service: 'y' },
      });
      await svc.assign(no.id);
      await svc.reject(no.id, { reason: 'no rollback plan' });
      expect(await svc.getTask(no.id)).toMatchObject({
        status: 'failed',
        error: 'rejected by local: no rollback plan',
      });
      expect(await e.rt.store.listExecutions({ taskId: no.id })).toEqual([]);
      expect((await svc.listApprovals({ all: true })).map((a) => a.status)).toEqual([
        'approved',
        'approved',
        'rejected',
      ]);
      if (kind === 'memory') {
        const events = (e.rt.bus as MemoryBus).approvals.map((x) => `${x.task_id}:${x.status}`);
        expect(events).toEqual([
          `${ok.id}:pending`,
          `${ok.id}:approved`,
          `${bad.id}:pending`,
          `${bad.id}:approved`,
          `${no.id}:pending`,
          `${no.id}:rejected`,
        ]);
      }
    });

    it('an approval nobody decides times out: the task fails, nothing runs', async () => {
      const e = await env(kind, { approvalTimeoutS: 1 });
      await e.rt.service.addAgent({ role: 'security', id: 'sec-1', provider: 'exec', command: 'echo scanned' });
      await worker(e, 'sec-1');
      const t = await e.rt.service.createTask({ title: 'scan', type: 'security_scan', role: 'security' });
      await e.rt.service.assign(t.id);
      expect(await e.rt.service.approvals.expire()).toEqual([]); // not yet
      const expired = await waitFor(async () => {
        const x = await e.rt.service.approvals.expire();
        return x.length ? x : undefined;
      }, 10_000);
      expect(expired).toMatchObject([{ taskId: t.id, status: 'expired', reason: 'timed out' }]);
      expect(await e.rt.service.getTask(t.id)).toMatchObject({ status: 'failed', error: 'approval timed out' });
      expect(await e.rt.store.listExecutions({ taskId: t.id })).toEqual([]);
    });

    it('a poison task (times out on every delivery) lands in the dead letters after max_deliver', async () => {
      const e = await env(kind, { execTimeoutMs: 150, maxDeliver: 3 });
      await e.rt.service.addAgent({ role: 'monitor', id: 'mon-p', provider: 'exec', command: 'sleep 5' });
      const w = await worker(e, 'mon-p');
      const t = await e.rt.service.createTask({ title: 'poison', type: 'health_check', role: 'monitor' });
      await e.rt.service.assign(t.id);
      const f = await finished(e, t.id);
      expect(f.status).toBe('failed');
      expect(f.error).toMatch(/dead letter: .*max_deliver/);
      expect(w.stats.retried).toBe(3);
      expect(await e.rt.store.listExecutions({ taskId: t.id })).toMatchObject([{ outcome: 'dead' }]);
    });

    it('malformed messages are terminated into the dead letters; a task the command cannot start on fails', async () => {
      const e = await env(kind);
      await e.rt.service.addAgent({ role: 'monitor', id: 'mon-m', provider: 'exec', command: 'echo {{payload.host}}' });
      const w = await worker(e, 'mon-m');
      const t = await e.rt.service.createTask({
        title: 'no host',
        type: 'health_check',
        role: 'monitor',
        payload: { other: 1 },
      });
      await e.rt.service.assign(t.id);
      expect(await finished(e, t.id)).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/'payload.host' is missing/),
      });
      const garbage = new TextEncoder().encode('{not json');
      if (kind === 'memory') (e.rt.bus as MemoryBus).enqueue('monitor', 'mon-m', garbage);
      else await (e.rt.bus as JetStreamBus).js.publish(assignSubject('monitor', 'mon-m'), garbage);
      await waitFor(() => w.stats.terminated >= 2, 10_000, 'two terminated');
      const wrong = encodeJson({ task_id: 'x', agent_role: 'wizard' });
      if (kind === 'memory') (e.rt.bus as MemoryBus).enqueue('monitor', 'mon-m', wrong);
      else await (e.rt.bus as JetStreamBus).js.publish(assignSubject('monitor', 'mon-m'), wrong);
      await waitFor(() => w.stats.terminated >= 3, 10_000, 'three terminated');
      if (kind === 'jetstream') {
        const jsb = e.rt.bus as JetStreamBus;
        await waitFor(async () => (await jsb.jsm.streams.info(DLQ_STREAM)).state.messages >= 3, 5000, 'DLQ');
        const m = await jsb.jsm.streams.getMessage(DLQ_STREAM, { last_by_subj: 'vapora.tasks.dead.monitor' });
        expect(m?.header.get('Vapora-Reason')).toMatch(/malformed assignment/);
      } else {
        expect((e.rt.bus as MemoryBus).dead.map((d) => d.reason)).toEqual([
          expect.stringMatching(/cannot run/),
          'malformed assignment: not JSON',
          expect.stringMatching(/^malformed assignment: /),
        ]);
      }
      // The worker is still serving.
      const t2 = await e.rt.service.createTask({
        title: 'fine',
        type: 'health_check',
        role: 'monitor',
        payload: { host: 'h' },
      });
      await e.rt.service.assign(t2.id);
      expect((await finished(e, t2.id)).status).toBe('done');
    });

    it('a result already published for a redelivered assignment is not run again', async () => {
      const e = await env(kind);
      const log = join(e.dir, 'runs.log');
      await e.rt.service.addAgent({
        role: 'monitor',
        id: 'mon-d',
        provider: 'exec',
        command: `sh -c 'echo run >> ${log}'`,
      });
      const t = await e.rt.service.createTask({ title: 'once', type: 'health_check', role: 'monitor' });
      const { task } = await e.rt.service.assign(t.id);
      // A worker that published its result and died before acking: the result is on the bus, the message is not acked.
      await e.rt.bus!.publishResult(
        execResult({
          task_id: t.id,
          assignment_id: task.assignmentId!,
          agent_id: 'mon-d',
          agent_role: 'monitor',
          task_type: 'health_check',
          status: 'success',
          output: 'from the first run',
          started_at: null,
          duration_ms: 1,
          model: '',
        }),
      );
      // Its first delivery went to that worker, which never acked.
      let seen = 0;
      const dead = await e.rt.bus!.consumeAssignments('monitor', 'mon-d', async () => void seen++);
      await waitFor(() => seen === 1, 5000, 'the first delivery');
      await dead.stop();
      const w = await worker(e, 'mon-d');
      expect(await finished(e, t.id)).toMatchObject({ status: 'done', result: { output: 'from the first run' } });
      await waitFor(() => w.stats.skipped === 1, 5000, 'skip');
      expect(lines(log)).toBe(0);
    });
  });
};

scenarios('memory', false);
scenarios('jetstream', skipUnless('nats'));

describe.skipIf(skipUnless('nats') || !existsSync(join(import.meta.dirname, '..', 'dist', 'commands', 'worker.js')))(
  'vapora worker processes on JetStream',
  () => {
    const children: ChildProcess[] = [];
    afterEach(() => {
      for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    });

    it('a worker killed mid-task: the task is redelivered to the restarted worker and completed once', async () => {
      const e = await env('jetstream');
      const project = tempDir();
      mkdirSync(join(project, '.vapora'));
      writeFileSync(
        join(project, '.vapora', 'vapora.toml'),
        `[storage]\npath = ${JSON.stringify(join(e.dir, 'vapora.db'))}\n[nats]\nurl = ${JSON.stringify(nats!.url)}\nack_wait_ms = 1500\nmax_deliver = 5\nnak_delay_ms = 100\n`,
      );
      const log = join(project, 'runs.log');
      await e.rt.service.addAgent({
        role: 'monitor',
        id: 'mon-k',
        provider: 'exec',
        command: `sh -c 'echo run >> ${log}; sleep 1.5; echo "done-$VAPORA_PAYLOAD_HOST"'`,
      });
      const start = () => {
        const c = spawn(process.execPath, [BIN, 'worker', '--role', 'monitor', '--agent', 'mon-k'], {
          cwd: project,
          env: { PATH: process.env.PATH, HOME: project, XDG_CONFIG_HOME: join(project, 'cfg'), NO_COLOR: '1' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        children.push(c);
        return c;
      };
      const first = start();
      const t = await e.rt.service.createTask({
        title: 'check',
        type: 'health_check',
        role: 'monitor',
        payload: { host: 'db-9' },
      });
      await e.rt.service.assign(t.id);
      await waitFor(() => lines(log) >= 1, 15_000, 'the first run to start');
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      start();
      const done = await finished(e, t.id);
      expect(done).toMatchObject({ status: 'done', result: { output: 'done-db-9\n', deliveries: 2 } });
      expect(lines(log)).toBe(2); // started twice (at-least-once), completed once:
      expect(await e.rt.store.listExecutions({ taskId: t.id })).toHaveLength(1);
      const jsb = e.rt.bus as JetStreamBus;
      const info = await jsb.jsm.streams.info('VAPORA_RESULTS', { subjects_filter: `vapora.tasks.results.${t.id}` });
      expect(info.state.subjects?.[`vapora.tasks.results.${t.id}`]).toBe(1);
    }, 40_000);
  },
);
