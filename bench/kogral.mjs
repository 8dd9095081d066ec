// Kogral on a generated 10,000-node graph: full index, incremental update after one edit (in a
// CLI call, next to that call's process startup), show/list through the CLI, and search latency
// (p50/p99 over 100 queries) against `rg -i` over the same folder in the same run (`grep -ri`
// when ripgrep is not installed; the table says which).
// Targets (issue 6): search p50 <= 0.1x the baseline, incremental update <= 50 ms, full index
// <= 5 s, show/list <= 200 ms of work beyond the process startup of a command (`kogral config`).
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (f) => join(root, 'packages', 'kogral', 'dist', f);
const N = Number(process.env.BENCH_KOGRAL_NODES ?? 10_000);
const TYPES = ['note', 'decision', 'guideline', 'pattern', 'journal', 'execution'];

const bin = join(root, 'packages', 'kogral', 'bin', 'run.js');

/**
 * One CLI call in the graph's project folder: wall ms, and its debug log lines (JSON). Without the
 * daemon unless `env` says otherwise (a user's running daemon must not change what is measured).
 */
function cli(cwd, args, env = { KOGRAL_DAEMON: 'off' }) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args, '--log-level', 'debug', '--log-format', 'json'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`kogral ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const logs = String(r.stderr)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  return { ms, logs, stdout: String(r.stdout) };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Real markdown bodies to replicate (../shared/corpora), or generated text when they are absent. */
function bodies() {
  const dir = join(root, '..', 'shared', 'corpora');
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.md') && statSync(p).size < 64 * 1024) out.push(readFileSync(p, 'utf8'));
    }
  };
  if (existsSync(dir)) walk(dir);
  if (out.length > 0) return { texts: out, from: 'corpora' };
  const words =
    'kubernetes node pod cluster postgres connection pool exhaustion nginx upstream timeout certificate expired alert prometheus etcd leader disk volume memory cpu deploy rollback incident runbook decision network dns latency queue kafka consumer lag'.split(
      ' ',
    );
  const texts = Array.from({ length: 300 }, (_, i) => {
    let s = `# Generated ${i}\n\n`;
    for (let k = 0; k < 400; k++) s += `${words[(i * 7 + k * 13) % words.length]}${k % 12 === 11 ? '.\n' : ' '}`;
    return s;
  });
  return { texts, from: 'generated' };
}

export default async function kogral() {
  const { serializeNode } = await import(dist('core/markdown.js'));
  const { Store } = await import(dist('core/store.js'));
  const { SqliteIndex } = await import(dist('adapters/sqlite-index.js'));
  const { SearchEngine } = await import(dist('core/search/engine.js'));
  const { NgramEmbedder } = await import(dist('core/search/embedder.js'));

  const load = (await import('node:os')).loadavg()[0];
  const work = mkdtempSync(join(tmpdir(), 'kogral-bench-'));
  const dir = join(work, '.kogral');
  const { texts, from } = bodies();
  const t0 = performance.now();
  for (const t of TYPES) mkdirSync(join(dir, `${t}s`), { recursive: true });
  const paths = [];
  for (let i = 0; i < N; i++) {
    const type = TYPES[i % TYPES.length];
    const text = texts[i % texts.length];
    const title = `${/^#\s+(.+)$/m.exec(text)?.[1] ?? 'Node'} ${i}`;
    const id = `node-${String(i).padStart(5, '0')}`;
    const node = {
      id,
      type,
      title,
      tags: [`t${i % 50}`, type],
      aliases: [],
      status: 'active',
      created: '2026-01-01T00:00:00.000Z',
      updated: '2026-01-01T00:00:00.000Z',
      relations: i > 0 ? [{ type: 'relates_to', target: `node-${String(i - 1).padStart(5, '0')}`, weight: 1 }] : [],
      metadata: {},
      body: `${text}\n\nserial${i} marker${i % 97}\n`,
    };
    const p = join(dir, `${type}s`, `${id}.md`);
    writeFileSync(p, serializeNode(node));
    paths.push(p);
  }
  const genMs = performance.now() - t0;
  const mb = paths.reduce((s, p) => s + statSync(p).size, 0) / 1024 / 1024;

  const store = new Store(dir);
  const index = new SqliteIndex(store);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let c = cpu();
  let t = performance.now();
  index.rebuild();
  const fullMs = performance.now() - t;
  const fullCpu = cpu() - c;

  // Incremental: a hand edit of one file, then the update every search does first (stat all, re-read one).
  const incr = [];
  const incrCpu = [];
  for (let k = 0; k < 5; k++) {
    const p = paths[(k * 1237) % paths.length];
    writeFileSync(p, readFileSync(p, 'utf8').replace(/serial(\d+)/, `serial$1 edited${k}`));
    c = cpu();
    t = performance.now();
    const s = index.refresh();
    incr.push(performance.now() - t);
    incrCpu.push(cpu() - c);
    if (s.updated !== 1) throw new Error(`expected one updated file, got ${JSON.stringify(s)}`);
  }
  const incrMs = pct(incr, 50);

  // The same through the CLI: `kogral search` after a hand edit. Its debug log says what the
  // update cost inside the call; `kogral config` (a command that loads the same config, no
  // graph work) is the process startup it is compared with. Interleaved, median of 5.
  cli(work, ['config']); // warm the file cache
  const cliUpdate = [];
  const cliUpdateCpu = [];
  const cliSearch = [];
  const startup = [];
  const cliShow = [];
  const cliList = [];
  const cliListFiltered = [];
  const cliListAll = [];
  for (let k = 0; k < 5; k++) {
    const p = paths[(k * 4241 + 3) % paths.length];
    writeFileSync(p, readFileSync(p, 'utf8').replace(/serial(\d+)/, `serial$1 cli${k}`));
    const r = cli(work, ['search', 'etcd no leader', '--json']);
    const upd = r.logs.find((l) => l.msg === 'index refreshed');
    if (upd?.updated !== 1) throw new Error(`expected one updated file, got ${JSON.stringify(upd)}`);
    cliUpdate.push(upd.ms);
    cliUpdateCpu.push(upd.cpu_ms);
    cliSearch.push(r.ms);
    startup.push(cli(work, ['config']).ms);
    const show = cli(work, ['show', `node-${String((k * 1999 + 5) % N).padStart(5, '0')}`, '--json']);
    if (!JSON.parse(show.stdout).backlinks) throw new Error('show gave no backlinks');
    cliShow.push(show.ms);
    cliList.push(cli(work, ['list', '--limit', '20']).ms);
    cliListFiltered.push(cli(work, ['list', '--type', 'decision', '--tag', `t${k}`, '--json']).ms);
    cliListAll.push(cli(work, ['list', '--json']).ms);
  }
  const startMs = pct(startup, 50);
  const beyond = (xs) => pct(xs, 50) - startMs;

  // The same hand edit and search with the kogral daemon running (its own data dir): the daemon
  // watches the graph and vouches for the index, so the command stats no file.
  const daemonEnv = { KOGRAL_DAEMON: 'use', KOGRAL_DATA_DIR: mkdtempSync(join(tmpdir(), 'kogral-bench-daemon-')) };
  const vouch = [];
  const daemonSearch = [];
  cli(work, ['daemon', 'start'], daemonEnv);
  try {
    cli(work, ['search', 'warm up', '--json'], daemonEnv); // the daemon's one full check of this graph
    for (let k = 0; k < 5; k++) {
      const p = paths[(k * 5003 + 17) % paths.length];
      writeFileSync(p, readFileSync(p, 'utf8').replace(/serial(\d+)/, `serial$1 daemon${k}`));
      const r = cli(work, ['search', 'etcd no leader', '--json'], daemonEnv);
      const v = r.logs.find((l) => l.msg === 'index vouched by the daemon');
      if (v?.updated !== 1) throw new Error(`expected the daemon to re-index one file, got ${JSON.stringify(v)}`);
      vouch.push(v.ms);
      daemonSearch.push(r.ms);
    }
  } finally {
    cli(work, ['daemon', 'stop'], daemonEnv);
    rmSync(daemonEnv.KOGRAL_DATA_DIR, { recursive: true, force: true });
  }

  // The same edit made through kogral: the writer updates the index for the file it wrote.
  const own = [];
  for (let k = 0; k < 5; k++) {
    const p = paths[(k * 2111 + 7) % paths.length];
    writeFileSync(p, readFileSync(p, 'utf8').replace(/serial(\d+)/, `serial$1 own${k}`));
    t = performance.now();
    index.update([p], []);
    own.push(performance.now() - t);
  }
  index.refresh();

  // The same hand edit while a watcher runs (what `kogral serve` does): only changed files are read.
  const { GraphWatcher } = await import(dist('adapters/watch.js'));
  const watcher = new GraphWatcher(dir);
  watcher.takeDirty();
  const watched = [];
  for (let k = 0; k < 5; k++) {
    const p = paths[(k * 3331 + 11) % paths.length];
    writeFileSync(p, readFileSync(p, 'utf8').replace(/serial(\d+)/, `serial$1 watched${k}`));
    t = performance.now();
    let d = watcher.takeDirty();
    for (let spin = 0; !d.full && d.paths.length === 0 && spin < 1000; spin++) {
      await new Promise((r) => setImmediate(r));
      d = watcher.takeDirty();
    }
    if (d.full) index.refresh();
    else index.update(d.paths, []);
    watched.push(performance.now() - t);
  }
  watcher.close();

  const phrases = [
    'postgres connection leak',
    'node not ready',
    'certificate expired',
    'prometheus alerts not sent to alertmanager',
    'etcd no leader',
    'disk filling up',
    'logs not shipped to cloudwatch',
    'kafka metrics missing',
    'horizontal pod autoscaler maximum replicas',
    'use markdown architectural decision records',
    'keyboard shortcuts',
    'block reference',
    'traefik 502 errors',
    'dns upgrade issue',
    'pods crash looping',
    'inotify watches',
    'license apache',
    'yaml front matter',
    'sync devices',
    'memory overcommit',
  ];
  const queries = Array.from({ length: 100 }, (_, i) =>
    i < 60 ? phrases[i % phrases.length] : `${phrases[i % phrases.length].split(' ')[0]} marker${i}`,
  );
  const engine = new SearchEngine(index);
  for (const q of queries.slice(0, 10)) await engine.search(q); // warm
  const lat = [];
  for (const q of queries) {
    t = performance.now();
    await engine.search(q, { limit: 10 });
    lat.push(performance.now() - t);
  }
  const p50 = pct(lat, 50);
  const p99 = pct(lat, 99);

  // Semantic (hybrid) latency, for information: the first query computes and caches 10k vectors.
  const sem = new SearchEngine(index, new NgramEmbedder());
  t = performance.now();
  await sem.search('warm up', { semantic: true });
  const vecBuild = performance.now() - t;
  const slat = [];
  for (const q of queries.slice(0, 30)) {
    t = performance.now();
    await sem.search(q, { semantic: true });
    slat.push(performance.now() - t);
  }

  // Baseline: ripgrep (or grep) over the same folder, the same words, OR-ed, case-insensitive.
  const hasRg = !spawnSync('rg', ['--version']).error;
  const tool = hasRg ? 'rg -i' : 'grep -ri';
  if (!hasRg) console.log('notice: ripgrep (rg) is not installed; the baseline is grep -ri (apt-get install ripgrep)');
  const base = [];
  for (const q of phrases) {
    const words = q.split(' ').filter((w) => w.length > 2);
    const args = hasRg
      ? ['-i', '-l', ...words.flatMap((w) => ['-e', w]), dir]
      : ['-r', '-i', '-l', ...words.flatMap((w) => ['-e', w]), dir];
    t = performance.now();
    const r = spawnSync(hasRg ? 'rg' : 'grep', args, { maxBuffer: 64 * 1024 * 1024 });
    base.push(performance.now() - t);
    if (r.status === 2) throw new Error(`${tool} failed: ${r.stderr}`);
  }
  const baseP50 = pct(base, 50);
  index.close();
  rmSync(work, { recursive: true, force: true });

  const ratio = p50 / baseP50;
  const rows = [
    {
      measure: `generate ${N} nodes (${mb.toFixed(1)} MB, bodies from ${from})`,
      value: `${genMs.toFixed(0)} ms`,
      target: '-',
      result: '(info)',
    },
    {
      measure: 'full index',
      value: `${fullMs.toFixed(0)} ms (cpu ${fullCpu.toFixed(0)})`,
      target: '<= 5000 ms',
      result: fullMs <= 5000 ? 'ok' : 'MISSED',
    },
    {
      measure: 'incremental update after a hand edit, in-process (stat every file, re-index one; median of 5)',
      value: `${incrMs.toFixed(1)} ms (cpu ${pct(incrCpu, 50).toFixed(1)})`,
      target: '-',
      result: '(info)',
    },
    {
      measure: 'CLI: incremental update inside `kogral search` after a hand edit (its debug log; median of 5)',
      value: `${pct(cliUpdate, 50).toFixed(1)} ms (cpu ${pct(cliUpdateCpu, 50).toFixed(1)})`,
      target: '<= 50 ms',
      result: pct(cliUpdate, 50) <= 50 ? 'ok' : 'MISSED',
    },
    {
      measure: 'CLI: the whole `kogral search` call after a hand edit (wall)',
      value: `${pct(cliSearch, 50).toFixed(0)} ms`,
      target: '-',
      result: '(info)',
    },
    {
      measure: 'CLI: the index check inside `kogral search` after a hand edit, daemon running (its debug log)',
      value: `${pct(vouch, 50).toFixed(1)} ms`,
      target: '-',
      result: '(info)',
    },
    {
      measure: 'CLI: `kogral search` after a hand edit, daemon running, beyond startup',
      value: `${beyond(daemonSearch).toFixed(0)} ms (wall ${pct(daemonSearch, 50).toFixed(0)})`,
      target: '<= 50 ms',
      result: beyond(daemonSearch) <= 50 ? 'ok' : 'MISSED',
    },
    {
      measure: 'CLI: process startup of a command (`kogral config`, wall)',
      value: `${startMs.toFixed(0)} ms`,
      target: '-',
      result: '(startup)',
    },
    {
      measure: 'CLI: `kogral show <id>` (with backlinks), beyond startup',
      value: `${beyond(cliShow).toFixed(0)} ms (wall ${pct(cliShow, 50).toFixed(0)})`,
      target: '<= 200 ms',
      result: beyond(cliShow) <= 200 ? 'ok' : 'MISSED',
    },
    {
      measure: 'CLI: `kogral list --limit 20`, beyond startup',
      value: `${beyond(cliList).toFixed(0)} ms (wall ${pct(cliList, 50).toFixed(0)})`,
      target: '<= 200 ms',
      result: beyond(cliList) <= 200 ? 'ok' : 'MISSED',
    },
    {
      measure: 'CLI: `kogral list --type decision --tag tN --json`, beyond startup',
      value: `${beyond(cliListFiltered).toFixed(0)} ms (wall ${pct(cliListFiltered, 50).toFixed(0)})`,
      target: '<= 200 ms',
      result: beyond(cliListFiltered) <= 200 ? 'ok' : 'MISSED',
    },
    {
      measure: `CLI: \`kogral list --json\` (all ${N} nodes), beyond startup`,
      value: `${beyond(cliListAll).toFixed(0)} ms (wall ${pct(cliListAll, 50).toFixed(0)})`,
      target: '-',
      result: '(info)',
    },
    {
      measure: 'incremental update after a hand edit, watched (kogral serve; median of 5)',
      value: `${pct(watched, 50).toFixed(2)} ms`,
      target: '<= 50 ms',
      result: pct(watched, 50) <= 50 ? 'ok' : 'MISSED',
    },
    {
      measure: 'incremental update of a file kogral wrote (median of 5)',
      value: `${pct(own, 50).toFixed(2)} ms`,
      target: '-',
      result: '(info)',
    },
    {
      measure: 'search p50 (100 queries, BM25, top 10 + snippets)',
      value: `${p50.toFixed(2)} ms`,
      target: '-',
      result: '(info)',
    },
    { measure: 'search p99', value: `${p99.toFixed(2)} ms`, target: '-', result: '(info)' },
    {
      measure: `baseline ${tool} -l, p50 of ${phrases.length}`,
      value: `${baseP50.toFixed(1)} ms`,
      target: '-',
      result: hasRg ? '(baseline)' : '(baseline: ripgrep not installed)',
    },
    {
      measure: `search p50 / ${tool} p50`,
      value: `${ratio.toFixed(3)}x`,
      target: '<= 0.1x',
      result: ratio <= 0.1 ? 'ok' : 'MISSED',
    },
    {
      measure: '--semantic: first query (builds 10k vectors)',
      value: `${vecBuild.toFixed(0)} ms`,
      target: '-',
      result: '(info)',
    },
    {
      measure: '--semantic p50 / p99 (30 queries, cached vectors)',
      value: `${pct(slat, 50).toFixed(1)} / ${pct(slat, 99).toFixed(1)} ms`,
      target: '-',
      result: '(info)',
    },
  ];
  console.table(rows);
  console.log(`load average at start: ${load.toFixed(2)} on ${(await import('node:os')).cpus().length} cores`);
  const ok = rows.every((r) => r.result !== 'MISSED');
  console.log(ok ? 'all targets met' : 'some targets missed');
  return ok;
}
