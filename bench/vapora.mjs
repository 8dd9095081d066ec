// vapora: (1) routing decision + assignment among 100 agents, in-process, against a target rate;
// (2) JetStream assign → worker → result round trip against a raw JetStream publish/consume of the same payload,
// measured in the same run on a throwaway nats-server (loopback). Bounded: ~1 s of decisions, a few hundred trips.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => pathToFileURL(join(root, 'packages', p)).href;
const DECISIONS_TARGET = 50_000;
const RATIO_TARGET = 1.5;
const TRIPS = Number(process.env.BENCH_TRIPS ?? 300);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function decisions() {
  const { pickAgent } = await import(dist('vapora/dist/core/assignment.js'));
  const { compileRules, LlmRouter } = await import(dist('vapora/dist/core/router.js'));
  const { PriceTable } = await import(dist('vapora/dist/core/prices.js'));
  const { statusOf } = await import(dist('vapora/dist/core/budget.js'));
  const now = Date.now();
  const agents = Array.from({ length: 100 }, (_, i) => ({
    id: `dev-${String(i).padStart(3, '0')}`,
    role: 'devops',
    provider: 'anthropic',
    model: 'claude-sonnet-4-6',
    status: i % 17 === 0 ? 'offline' : 'ready',
    load: (i % 10) / 10,
    capacity: 4,
    lastHeartbeat: now - (i % 7) * 1000,
    createdAt: now,
  }));
  const stats = new Map(
    agents.map((a, i) => [
      a.id,
      {
        agentId: a.id,
        role: 'devops',
        nRecent: i % 13,
        sRecent: (i % 11) % ((i % 13) + 1),
        nOld: i % 29,
        sOld: (i * 7) % ((i % 29) + 1),
      },
    ]),
  );
  const rules = compileRules(
    Array.from({ length: 10 }, (_, i) => ({
      pattern: `^kind${i}_(scan|deploy|review)$`,
      provider: 'anthropic',
      model: 'claude-sonnet-4-6',
      fallback: ['anthropic:claude-haiku-4-5', 'ollama:llama3.1:8b'],
    })),
  );
  const router = new LlmRouter({
    rules,
    prices: PriceTable.withOverrides(),
    ledger: {},
    provider: () => {
      throw new Error('no calls in the benchmark');
    },
    retries: 0,
    backoffMs: 0,
    maxBackoffMs: 0,
    defaultMaxOutputTokens: 1024,
  });
  const budget = statusOf(
    'devops',
    {
      month: { period: '2026-11', spent: 4_100_000_000, reserved: 0 },
      week: { period: '2026-W47', spent: 0, reserved: 0 },
    },
    { month: 5_000_000_000, week: null, onExceeded: 'downgrade', source: 'store' },
  );
  const types = ['kind3_deploy', 'kind9_review', 'security_scan', 'kind0_scan'];
  const opts = { role: 'devops', now, heartbeatTimeoutMs: 60_000 };
  const decide = (i) => {
    const a = pickAgent(agents, stats, opts);
    const d = router.decide(types[i & 3], 'devops', budget, { inputTokens: 800, maxOutputTokens: 1024 });
    return a && d.candidates.length;
  };
  for (let i = 0; i < 20_000; i++) decide(i); // warm up the JIT
  let n = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1000) {
    for (let i = 0; i < 1000; i++) sink += decide(n++);
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  if (sink === 0) throw new Error('no decision made');
  return { rate: Math.round(n / (elapsed / 1000)), perDecisionUs: ((elapsed * 1000) / n).toFixed(2) };
}

async function roundTrips() {
  const { skipUnless, startNats } = await import(dist('shared/dist/testing/index.js'));
  if (skipUnless('nats')) return undefined;
  const nats = await startNats();
  const dir = mkdtempSync(join(tmpdir(), 'vapora-bench-'));
  const { jetstream, jetstreamManager, AckPolicy, RetentionPolicy, StorageType } = await import('@nats-io/jetstream');
  const { connect, nanos } = await import('@nats-io/transport-node');
  const { openRuntime } = await import(dist('vapora/dist/runtime.js'));
  const { configSchema } = await import(dist('vapora/dist/tool.js'));
  const { Worker } = await import(dist('vapora/dist/core/worker.js'));
  const { encodeJson } = await import(dist('vapora/dist/core/bus.js'));
  let rt;
  let nc;
  try {
    // ---- vapora: assign (publish) → worker (parse, route to a no-op provider, cost record) → result → consumer
    rt = await openRuntime({
      config: configSchema.parse({ storage: { path: join(dir, 'vapora.db') }, nats: { url: nats.url } }),
      bus: true,
    });
    await rt.service.addAgent({ role: 'monitor', id: 'bench-1', provider: 'exec', command: 'noop' });
    const agent = await rt.service.getAgent('bench-1');
    const noop = {
      name: 'exec',
      chat: async (r) => ({
        text: 'ok',
        model: r.model,
        usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
        finishReason: 'stop',
      }),
    };
    rt.router.o.provider = () => noop;
    const worker = new Worker({ bus: rt.bus, router: rt.router, agent, heartbeatMs: 60_000 });
    await worker.start();
    const waiting = new Map();
    await rt.bus.consumeResults(async (d) => {
      const r = JSON.parse(new TextDecoder().decode(d.data));
      await d.ack();
      waiting.get(r.task_id)?.();
    });
    const payload = { manifests_path: 'k8s/', cluster: 'prod', note: 'x'.repeat(200) };
    let seq = 0;
    const vapora = async () => {
      const id = `t-${seq++}`;
      const msg = {
        task_id: id,
        assignment_id: `a-${id}-${Math.random()}`,
        agent_id: 'bench-1',
        agent_role: 'monitor',
        task_type: 'health_check',
        title: 'check',
        description: '',
        payload,
        priority: 'normal',
        provider: 'exec',
        model: 'noop',
        attempt: 1,
      };
      const t0 = process.hrtime.bigint();
      const done = new Promise((r) => waiting.set(id, r));
      await rt.bus.publishAssignment(msg);
      await done;
      waiting.delete(id);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };

    // ---- raw: the same payload through a work-queue stream and back, with the client alone
    nc = await connect({ servers: nats.url.replace('nats://', '') });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({
      name: 'RAW_TASKS',
      subjects: ['raw.assign.*'],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(120_000),
    });
    await jsm.streams.add({
      name: 'RAW_RESULTS',
      subjects: ['raw.results.*'],
      storage: StorageType.File,
      duplicate_window: nanos(120_000),
    });
    await jsm.consumers.add('RAW_TASKS', { durable_name: 'w', ack_policy: AckPolicy.Explicit, max_deliver: 5 });
    await jsm.consumers.add('RAW_RESULTS', { durable_name: 'c', ack_policy: AckPolicy.Explicit });
    const rawWaiting = new Map();
    const tasks = await (await js.consumers.get('RAW_TASKS', 'w')).consume({ max_messages: 1 });
    (async () => {
      for await (const m of tasks) {
        const a = m.json();
        await js.publish(`raw.results.${a.task_id}`, encodeJson({ task_id: a.task_id, output: 'ok' }), {
          msgID: `r:${a.assignment_id}`,
        });
        m.ack();
      }
    })();
    const results = await (await js.consumers.get('RAW_RESULTS', 'c')).consume({ max_messages: 64 });
    (async () => {
      for await (const m of results) {
        m.ack();
        rawWaiting.get(m.json().task_id)?.();
      }
    })();
    const raw = async () => {
      const id = `t-${seq++}`;
      const t0 = process.hrtime.bigint();
      const done = new Promise((r) => rawWaiting.set(id, r));
      await js.publish(`raw.assign.${id}`, encodeJson({ task_id: id, assignment_id: `a-${id}`, payload }), {
        msgID: `a-${id}`,
      });
      await done;
      rawWaiting.delete(id);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };

    for (let i = 0; i < 50; i++) {
      await raw();
      await vapora();
    }
    const r = [];
    const v = [];
    // Interleaved blocks, so that drift in machine load hits both alike.
    for (let block = 0; block < 6; block++) {
      for (let i = 0; i < TRIPS / 6; i++) r.push(await raw());
      for (let i = 0; i < TRIPS / 6; i++) v.push(await vapora());
    }
    tasks.stop();
    results.stop();
    await worker.stop();
    return { raw: r, vapora: v };
  } finally {
    await nc?.drain().catch(() => {});
    await rt?.close().catch(() => {});
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function vapora() {
  const rows = [];
  let ok = true;
  const d = await decisions();
  const decOk = d.rate >= DECISIONS_TARGET;
  ok &&= decOk;
  rows.push({
    measure: 'route + assign among 100 agents (in-process)',
    baseline: '-',
    value: `${d.rate.toLocaleString('en-US')} decisions/s (${d.perDecisionUs} µs)`,
    ratio: '-',
    target: `>= ${DECISIONS_TARGET.toLocaleString('en-US')}/s`,
    result: decOk ? 'ok' : 'MISSED',
  });
  const rt = await roundTrips();
  if (!rt) {
    rows.push({
      measure: 'JetStream round trip',
      baseline: '-',
      value: 'skipped: nats-server missing',
      ratio: '-',
      target: '-',
      result: '(skipped)',
    });
  } else {
    for (const p of [50, 99]) {
      const base = pct(rt.raw, p);
      const val = pct(rt.vapora, p);
      const ratio = val / base;
      const pass = p === 50 ? ratio <= RATIO_TARGET : true;
      ok &&= pass;
      rows.push({
        measure: `assign → worker → result p${p} (${rt.vapora.length} trips)`,
        baseline: `raw JetStream ${base.toFixed(2)} ms`,
        value: `${val.toFixed(2)} ms`,
        ratio: ratio.toFixed(2),
        target: p === 50 ? `<= ${RATIO_TARGET}` : '(info)',
        result: p === 50 ? (pass ? 'ok' : 'MISSED') : '(info)',
      });
    }
  }
  console.table(rows);
  console.log(ok ? 'all targets met' : 'some targets missed');
  return ok;
}
