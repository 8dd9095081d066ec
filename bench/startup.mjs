// Cold start of each binary against bare `node -e 0`, measured in the same run as interleaved
// pairs; prints the median ratio per command against its target. Besides --version and --help
// (answered without oclif), real commands on real data: a KV read from a dev server, a search and
// a list on a 500-note graph, a validation of examples/prov, a plan of an applied 5-server workspace
// (recorded state only), a form, the vapora board. The binaries' code cache (start.cts) is written
// by the first run after a build: here the warm-up run before the measured ones.
// For commands that call a server, the server's own time (the same HTTP request made from here)
// is taken off first. BENCH_PAIRS sets the pairs per command (default 15).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, stop } from './_http.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pairs = Number(process.env.BENCH_PAIRS ?? 15);
const bin = (tool) => join(root, 'packages', tool, 'bin', 'run.js');
const REAL = 1.5;

function time(args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function run(tool, args, opts) {
  const r = spawnSync(process.execPath, [bin(tool), ...args], { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One plain HTTP request's round trip (a new connection, as the CLI makes): the server's share. */
function httpMs(url, headers) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A sandboxed HOME and data dirs, so nothing of the user's is read or written. */
export function sandbox(work) {
  return {
    PATH: process.env.PATH,
    HOME: work,
    XDG_CONFIG_HOME: join(work, 'config'),
    XDG_DATA_HOME: join(work, 'data'),
    NO_COLOR: '1',
  };
}

/** A kogral project with `n` notes written as files (as a hand edit or a git pull would), then indexed. */
export async function kogralGraph(work, env, n) {
  const project = join(work, 'notes');
  mkdirSync(project);
  run('kogral', ['init'], { cwd: project, env });
  const { serializeNode } = await import(join(root, 'packages/kogral/dist/core/markdown.js'));
  const words =
    'postgres connection pool exhaustion nginx upstream timeout certificate etcd leader disk deploy rollback'.split(
      ' ',
    );
  mkdirSync(join(project, '.kogral', 'notes'), { recursive: true });
  for (let i = 0; i < n; i++) {
    let body = '';
    for (let k = 0; k < 120; k++) body += `${words[(i * 7 + k * 13) % words.length]} `;
    const id = `note-${String(i).padStart(4, '0')}`;
    const node = {
      id,
      type: 'note',
      title: `Note ${i} about ${words[i % words.length]}`,
      tags: [`t${i % 20}`],
      aliases: [],
      status: 'active',
      created: '2026-01-01T00:00:00.000Z',
      updated: '2026-01-01T00:00:00.000Z',
      relations: [],
      metadata: {},
      body,
    };
    writeFileSync(join(project, '.kogral', 'notes', `${id}.md`), serializeNode(node));
  }
  run('kogral', ['reindex'], { cwd: project, env });
  return project;
}

/**
 * A prov workspace with `n` servers, applied: the plan (a real `prov plan`) is carried out by the
 * engine with a provider whose calls return at once (no cloud here), into the workspace's state.
 */
export async function provWorkspace(work, env, n) {
  const ws = join(work, 'prov');
  mkdirSync(ws);
  writeFileSync(
    join(ws, 'prov.ncl'),
    `let Infrastructure = import "${join(root, 'schemas', 'infrastructure.ncl')}" in
{
  provider = 'aws,
  region = "us-east-1",
  servers = std.array.map
    (fun i => {
      name = "app-%{std.to_string i}",
      provider = 'aws,
      plan = "t3.medium",
      role = "app",
      spec = { cpu = 2, memory_gb = 4, disk_gb = 40, os = { family = 'ubuntu, version = "24.04" } },
      tags = { environment = "bench" },
    })
    (std.array.range 0 ${n}),
} | Infrastructure
`,
  );
  run('prov', ['plan', '--no-refresh', '-o', 'plan.json'], { cwd: ws, env });
  const dist = (p) => join(root, 'packages', 'prov', 'dist', p);
  const { executePlan } = await import(dist('core/engine.js'));
  const { openStateStore } = await import(dist('adapters/state/index.js'));
  const plan = JSON.parse(readFileSync(join(ws, 'plan.json'), 'utf8'));
  const store = await openStateStore(join(ws, '.prov', 'state.db'));
  const provider = {
    name: 'aws',
    kinds: ['server'],
    replaceOn: () => [],
    read: async () => ({}),
    create: async (r) => ({ id: `i-${r.name}` }),
    update: async () => ({}),
    delete: async () => {},
    test: async () => [],
    close: async () => {},
  };
  const desired = new Map(plan.changes.map((c) => [c.address, c.after]));
  const retry = { retries: 0, initialMs: 1, factor: 2, maxMs: 1 };
  const r = await executePlan({ store, provider: async () => provider, retry }, plan, desired, {
    parallelism: n,
    rollback: true,
    kind: 'apply',
  });
  await store.close();
  if (r.status !== 'succeeded') throw new Error(`prov workspace: apply ${r.status}`);
  if (!run('prov', ['plan', '--no-refresh'], { cwd: ws, env }).includes('No changes.'))
    throw new Error('prov workspace: the applied plan still has changes');
  return ws;
}

export default async function startup() {
  const work = mkdtempSync(join(tmpdir(), 'startup-bench-'));
  const env = sandbox(work);
  const cases = [];
  for (const tool of ['svault', 'kogral', 'prov', 'typedialog', 'vapora']) {
    cases.push({ name: `${tool} --version`, tool, args: ['--version'], target: 2.0 });
    cases.push({ name: `${tool} --help`, tool, args: ['--help'], target: 2.5 });
  }
  let server;
  try {
    const started = await startChild([bin('svault'), 'server', '--dev', '--address', '127.0.0.1:0', '--json'], {
      env,
    });
    server = started.child;
    const vault = { ...env, SVAULT_ADDR: started.info.address, SVAULT_TOKEN: started.info.root_token };
    run('svault', ['kv', 'put', 'secret/app', 'user=app', 'password=s3cr3t'], { env: vault });
    const headers = { 'x-vault-token': started.info.root_token };
    cases.push({
      name: 'svault kv get (dev server)',
      tool: 'svault',
      args: ['kv', 'get', 'secret/app'],
      env: vault,
      server: () => httpMs(`${started.info.address}/v1/secret/data/app`, headers),
    });
    cases.push({
      name: 'svault operator status (dev server)',
      tool: 'svault',
      args: ['operator', 'status'],
      env: vault,
      server: () => httpMs(`${started.info.address}/v1/sys/seal-status`, headers),
    });

    const notes = await kogralGraph(work, env, 500);
    cases.push({
      name: 'kogral search (500 notes)',
      tool: 'kogral',
      args: ['search', 'postgres connection pool'],
      cwd: notes,
    });
    cases.push({ name: 'kogral list (500 notes)', tool: 'kogral', args: ['list'], cwd: notes });

    cases.push({
      name: 'prov validate (k8s-ha example)',
      tool: 'prov',
      args: ['validate', 'examples/prov/k8s-ha.ncl'],
      cwd: root,
    });
    const ws = await provWorkspace(work, env, 5);
    cases.push({
      name: 'prov plan --no-refresh (5 servers applied)',
      tool: 'prov',
      args: ['plan', '--no-refresh'],
      cwd: ws,
    });
    cases.push({
      name: 'typedialog validate (form)',
      tool: 'typedialog',
      args: ['validate', 'examples/forms/cluster.toml'],
      cwd: root,
    });

    const team = join(work, 'team');
    mkdirSync(team);
    run('vapora', ['init'], { cwd: team, env });
    for (let i = 0; i < 20; i++)
      run('vapora', ['task', 'create', `task ${i}`, '--type', 'code_review'], { cwd: team, env });
    cases.push({ name: 'vapora task list (20 tasks)', tool: 'vapora', args: ['task', 'list'], cwd: team });

    // The baseline runs in the very environment the command runs in: a variable such as
    // NODE_EXTRA_CA_CERTS (read by every node start: ~60 ms for a system CA bundle) would otherwise
    // slow one side only. The sandbox passes none of the caller's NODE_* variables.
    for (let i = 0; i < 3; i++) time(['-e', '0'], { env }); // warm the file cache
    const rows = [];
    let ok = true;
    for (const c of cases) {
      const opts = { env: c.env ?? env, cwd: c.cwd ?? work };
      time([bin(c.tool), ...c.args], opts);
      const ratios = [];
      const base = [];
      const cmd = [];
      const serverMs = [];
      for (let i = 0; i < pairs; i++) {
        // Alternate the order so drift in machine load hits both sides alike.
        const before = i % 2 === 0 ? time(['-e', '0'], opts) : undefined;
        const s = c.server ? await c.server() : 0;
        const ms = time([bin(c.tool), ...c.args], opts) - s;
        const n = before ?? time(['-e', '0'], opts);
        base.push(n);
        cmd.push(ms);
        serverMs.push(s);
        ratios.push(ms / n);
      }
      const ratio = median(ratios);
      const target = c.target ?? REAL;
      const pass = ratio <= target;
      ok &&= pass;
      rows.push({
        command: c.name,
        'node -e 0 (ms)': median(base).toFixed(1),
        'command (ms)': median(cmd).toFixed(1),
        'server (ms)': c.server ? median(serverMs).toFixed(1) : '-',
        ratio: ratio.toFixed(2),
        target: `<= ${target.toFixed(1)}`,
        result: pass ? 'ok' : 'MISSED',
      });
    }
    console.table(rows);
    console.log(`median of ${pairs} pairs each; ${ok ? 'all targets met' : 'some targets missed'}`);
    if (process.env.NODE_EXTRA_CA_CERTS)
      console.log(
        'note: this shell sets NODE_EXTRA_CA_CERTS; neither side of a pair gets it (each node start would read it)',
      );
    return ok;
  } finally {
    if (server) await stop(server);
    rmSync(work, { recursive: true, force: true });
  }
}
