// prov: (1) orchestrator overhead for a 1,000-task no-op DAG, with the engine's real SQLite checkpoints
// (target < 1 s); (2) SSH fan-out: 10 commands on each of 20 throwaway sshd on loopback, parallelism 20,
// against Ansible (10 `command` tasks, forks 20, pipelining, ControlPersist) on the same hosts in the same run
// (target ≥ 15×). Ansible is optional: without `ansible-playbook` on PATH that comparison is skipped with a
// notice. A naive ssh2 executor (one exec channel per command) is measured too, for scale. (3) `prov validate` and
// `prov plan --no-refresh` on 50 servers against `terraform validate` / `terraform plan` on 50 terraform_data
// resources, whole processes, when terraform is on PATH (goal: prov at most Terraform's time).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './_stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'packages', p);
const HOSTS = Number(process.env.BENCH_PROV_HOSTS ?? 20);
// Plain commands (no shell syntax), so Ansible's `command` module runs exactly what prov runs.
const COMMANDS = [
  'true',
  'echo hello',
  'uname -a',
  'id -u',
  'hostname',
  'date +%s',
  'test -d /tmp',
  'pwd',
  'ls /',
  'cat /etc/os-release',
];
async function orchestrator(dir, run) {
  const { runDag } = await import(dist('prov/dist/core/orchestrator.js'));
  const { executePlan } = await import(dist('prov/dist/core/engine.js'));
  const { computePlan } = await import(dist('prov/dist/core/plan.js'));
  const { SqliteStateStore } = await import(dist('prov/dist/adapters/state/sqlite.js'));
  const n = 1000;
  const desired = Array.from({ length: n }, (_, i) => ({
    address: `noop.t${i}`,
    kind: 'noop',
    name: `t${i}`,
    provider: 'noop',
    attrs: { i },
    deps: i > 0 ? [`noop.t${Math.floor((i - 1) / 3)}`] : [],
  }));
  // Pure scheduling.
  const t0 = performance.now();
  await runDag(
    desired.map((d) => ({ id: d.address, deps: d.deps, run: async () => d.address })),
    { parallelism: 10 },
  );
  const walk = performance.now() - t0;
  // The apply path: plan, one run record, a 'running' and a 'done' checkpoint (task row + resource row + serial)
  // per task in SQLite (WAL), a provider whose calls do nothing.
  const store = new SqliteStateStore(join(dir, `state-${run}.db`));
  const noop = {
    name: 'noop',
    kinds: ['noop'],
    replaceOn: () => [],
    read: async () => ({}),
    create: async () => ({}),
    update: async () => ({}),
    delete: async () => {},
    test: async () => [],
    close: async () => {},
  };
  const t1 = performance.now();
  const plan = computePlan({
    desired,
    state: [],
    providers: { replaceOn: () => [] },
    operation: 'apply',
    meta: await store.meta(),
    config: null,
  });
  const r = await executePlan(
    { store, provider: async () => noop, retry: { retries: 0, initialMs: 1, factor: 2, maxMs: 1 } },
    plan,
    new Map(desired.map((d) => [d.address, d])),
    { parallelism: 10, rollback: true, kind: 'apply' },
  );
  const apply = performance.now() - t1;
  await store.close();
  if (r.status !== 'succeeded' || r.added !== n) throw new Error(`orchestrator bench: ${r.status}`);
  return { walk, apply, n };
}

async function naive(hosts) {
  // One exec channel per command (what the executor avoids): for comparison when Ansible is missing.
  const { Client } = (await import('ssh2')).default;
  const t0 = performance.now();
  await Promise.all(
    hosts.map(
      (h) =>
        new Promise((resolve, reject) => {
          const c = new Client();
          c.on('ready', async () => {
            c.setNoDelay(true);
            for (const cmd of COMMANDS) {
              await new Promise((res, rej) =>
                c.exec(cmd, (err, st) => {
                  if (err) return rej(err);
                  st.on('close', res).on('data', () => {});
                  st.stderr.on('data', () => {});
                }),
              );
            }
            c.end();
            resolve();
          });
          c.on('error', reject);
          c.connect({ host: h.host, port: h.port, username: h.username, privateKey: h.privateKey });
        }),
    ),
  );
  return performance.now() - t0;
}

function ansible(hosts, dir) {
  const bin = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) return undefined;
  const inv = hosts
    .map(
      (h, i) =>
        `h${i} ansible_host=${h.host} ansible_port=${h.port} ansible_user=${h.username} ansible_ssh_private_key_file=${h.privateKeyPath}`,
    )
    .join('\n');
  writeFileSync(join(dir, 'inventory'), `[bench]\n${inv}\n`);
  writeFileSync(
    join(dir, 'play.yml'),
    `- hosts: bench\n  gather_facts: false\n  tasks:\n${COMMANDS.map((c, i) => `    - name: c${i}\n      ansible.builtin.command: ${JSON.stringify(c)}\n`).join('')}`,
  );
  writeFileSync(
    join(dir, 'ansible.cfg'),
    `[defaults]\nforks = 20\nhost_key_checking = False\ninventory = inventory\ninterpreter_python = auto_silent\n\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no\ncontrol_path_dir = ${join(dir, 'cp')}\n`,
  );
  const t0 = performance.now();
  const r = spawnSync(bin, ['play.yml'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_CONFIG: join(dir, 'ansible.cfg') },
    timeout: 300_000,
  });
  const ms = performance.now() - t0;
  // Every host must have run all ten tasks, or the comparison means nothing.
  const recap = [...r.stdout.matchAll(/^(h\d+)\s*: ok=(\d+).*failed=(\d+)/gm)];
  const complete =
    recap.length === hosts.length && recap.every((m) => m[2] === String(COMMANDS.length) && m[3] === '0');
  if (r.status !== 0 || !complete)
    throw new Error(`ansible-playbook failed (${r.status}): ${r.stdout.slice(-500)}${r.stderr.slice(-500)}`);
  // Close the ControlPersist masters it left.
  spawnSync('sh', ['-c', `for s in ${join(dir, 'cp')}/*; do ssh -O exit -o ControlPath="$s" x 2>/dev/null; done`]);
  return ms;
}

const SERVERS = 50;

/** Whole-process median over `n` runs (after one warm-up), failing loudly when the command fails. */
function timeProcess(cmd, args, cwd, n = 5) {
  const once = () => {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', TF_IN_AUTOMATION: '1' },
    });
    const ms = performance.now() - t0;
    if (r.status !== 0)
      throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).slice(-400)}`);
    return ms;
  };
  once();
  return median(Array.from({ length: n }, once));
}

/**
 * `prov validate` and `prov plan --no-refresh` on a 50-server config against `terraform validate` and
 * `terraform plan -refresh=false` on 50 `terraform_data` resources (no provider download), same run.
 */
function versusTerraform(dir, rows, summary) {
  const ws = join(dir, 'prov-50');
  const tf = join(dir, 'tf-50');
  mkdirSync(ws, { recursive: true });
  mkdirSync(tf, { recursive: true });
  writeFileSync(
    join(ws, 'prov.ncl'),
    `let Infrastructure = import "${join(root, 'schemas', 'infrastructure.ncl')}" in
{
  provider = 'aws,
  region = "us-east-1",
  servers = std.array.map
    (fun n => {
      name = "app-%{std.to_string n}",
      provider = 'aws,
      plan = "t3.medium",
      role = "app",
      spec = { cpu = 2, memory_gb = 4, disk_gb = 40, os = { family = 'ubuntu, version = "24.04" } },
      tags = { environment = "bench", index = std.to_string n },
    })
    (std.array.range 0 ${SERVERS}),
} | Infrastructure
`,
  );
  writeFileSync(
    join(tf, 'main.tf'),
    `${Array.from(
      { length: SERVERS },
      (_, n) => `resource "terraform_data" "app_${n}" {
  input = {
    name   = "app-${n}"
    plan   = "t3.medium"
    role   = "app"
    cpu    = 2
    memory = 4
    disk   = 40
    os     = "ubuntu-24.04"
    tags   = { environment = "bench", index = "${n}" }
  }
}
`,
    ).join('\n')}`,
  );
  const prov = (args) => timeProcess(process.execPath, [join(root, 'packages', 'prov', 'bin', 'run.js'), ...args], ws);
  const provValidate = prov(['validate', 'prov.ncl']);
  const provPlan = prov(['plan', 'prov.ncl', '--no-refresh']);
  rows.push({
    measure: `prov validate: ${SERVERS} servers (whole process, median of 5)`,
    'time (ms)': provValidate.toFixed(0),
    'per task': '-',
    target: '-',
    result: '(info)',
  });
  rows.push({
    measure: `prov plan --no-refresh: ${SERVERS} servers to create (whole process, median of 5)`,
    'time (ms)': provPlan.toFixed(0),
    'per task': '-',
    target: '-',
    result: '(info)',
  });
  const terraform = spawnSync('terraform', ['version'], { encoding: 'utf8' });
  if (terraform.status !== 0) {
    console.log('NOTICE: terraform not found: the Terraform comparison is skipped');
    return true;
  }
  const init = spawnSync('terraform', ['init', '-input=false', '-no-color'], { cwd: tf, encoding: 'utf8' });
  if (init.status !== 0) {
    console.log(`NOTICE: terraform init failed offline, the comparison is skipped: ${init.stderr.slice(-300)}`);
    return true;
  }
  const tfValidate = timeProcess('terraform', ['validate', '-no-color'], tf);
  const tfPlan = timeProcess('terraform', ['plan', '-refresh=false', '-input=false', '-no-color', '-lock=false'], tf);
  let ok = true;
  for (const [what, ours, theirs] of [
    ['validate', provValidate, tfValidate],
    ['plan', provPlan, tfPlan],
  ]) {
    const ratio = ours / theirs;
    const pass = ratio <= 1;
    ok &&= pass;
    rows.push({
      measure: `terraform ${what}: ${SERVERS} terraform_data resources (median of 5)`,
      'time (ms)': theirs.toFixed(0),
      'per task': '-',
      target: `prov ≤ terraform`,
      result: `prov ×${ratio.toFixed(2)} ${pass ? 'ok' : 'MISSED'}`,
    });
    summary.push(
      `prov ${what} ${ours.toFixed(0)} ms vs terraform ${what} ${theirs.toFixed(0)} ms on ${SERVERS} resources: ×${ratio.toFixed(2)} (goal ≤ 1)`,
    );
  }
  return ok;
}

export default async function provBench() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-prov-'));
  const rows = [];
  const summary = [];
  let ok = true;
  try {
    const runs = [];
    for (let run = 0; run < 3; run++) runs.push(await orchestrator(dir, run));
    const o = { n: runs[0].n, walk: median(runs.map((r) => r.walk)), apply: median(runs.map((r) => r.apply)) };
    const pass = o.apply < 1000;
    ok &&= pass;
    rows.push({
      measure: `orchestrator: ${o.n}-task DAG, scheduling only (median of 3)`,
      'time (ms)': o.walk.toFixed(1),
      'per task': `${((o.walk * 1000) / o.n).toFixed(0)} µs`,
      target: '-',
      result: '(info)',
    });
    rows.push({
      measure: `orchestrator: ${o.n}-task no-op apply, SQLite checkpoints (median of 3)`,
      'time (ms)': o.apply.toFixed(1),
      'per task': `${((o.apply * 1000) / o.n).toFixed(0)} µs`,
      target: '< 1000 ms',
      result: pass ? 'ok' : 'MISSED',
    });

    ok = versusTerraform(dir, rows, summary) && ok;

    const { skipUnless, startSshd } = await import(dist('shared/dist/testing/index.js'));
    const skip = skipUnless('sshd');
    if (skip) {
      console.log('ssh fan-out skipped: sshd is not installed (apt-get install -y openssh-server)');
    } else {
      const servers = await Promise.all(
        Array.from({ length: HOSTS }, (_, i) => startSshd({ host: `127.0.0.${11 + i}` })),
      );
      try {
        const { SshExecutor } = await import(dist('prov/dist/adapters/ssh/executor.js'));
        const { KnownHosts } = await import(dist('prov/dist/adapters/ssh/known-hosts.js'));
        const { runOnHosts } = await import(dist('prov/dist/core/adhoc.js'));
        const kh = new KnownHosts(join(dir, 'known_hosts'), 'strict');
        for (const s of servers) kh.add(s.host, s.port, s.hostKeyBlob);
        const targets = servers.map((s, i) => ({
          name: `h${i}`,
          address: s.host,
          port: s.port,
          user: s.username,
          keyPath: s.privateKeyPath,
          sudo: false,
          labels: {},
        }));
        const steps = COMMANDS.map((c) => ({ name: c, script: c }));
        const fanOut = async (exec) => {
          const t0 = performance.now();
          const res = await runOnHosts(exec, targets, steps, { parallelism: 20 });
          const bad = res.filter((r) => !r.ok);
          if (bad.length) throw new Error(`fan-out failed on ${bad.map((b) => `${b.host}: ${b.error}`).join(', ')}`);
          return performance.now() - t0;
        };
        // Cold: new connections (handshake, auth, one shell channel per host), then the commands; warm: the
        // same commands again through the persistent shells (what each further command costs).
        const cold = [];
        const warm = [];
        for (let run = 0; run < 3; run++) {
          const exec = new SshExecutor({ knownHosts: kh });
          cold.push(await fanOut(exec));
          warm.push(await fanOut(exec));
          await exec.close();
        }
        const provMs = median(cold);
        const warmMs = median(warm);
        const perTask = (ms) => `${((ms * 1000) / (HOSTS * COMMANDS.length)).toFixed(0)} µs`;
        rows.push({
          measure: `prov exec: ${COMMANDS.length} commands × ${HOSTS} hosts, parallelism 20, connects included (median of 3)`,
          'time (ms)': provMs.toFixed(0),
          'per task': perTask(provMs),
          target: '-',
          result: '(info)',
        });
        rows.push({
          measure: 'prov exec: the same again on the open connections (median of 3)',
          'time (ms)': warmMs.toFixed(0),
          'per task': perTask(warmMs),
          target: '-',
          result: `connects ≈ ${(provMs - warmMs).toFixed(0)} ms`,
        });
        const n = await naive(servers);
        rows.push({
          measure: 'naive ssh2: one exec channel per command (same hosts)',
          'time (ms)': n.toFixed(0),
          'per task': perTask(n),
          target: '-',
          result: `prov ${(n / provMs).toFixed(1)}× faster`,
        });
        const a = ansible(servers, dir);
        if (a === undefined) {
          console.log(
            'NOTICE: ansible-playbook not found: the Ansible comparison is skipped (apt-get install -y ansible-core to run it)',
          );
        } else {
          const ratio = a / provMs;
          const pass2 = ratio >= 15;
          ok &&= pass2;
          rows.push({
            measure: `ansible-playbook: the same ${COMMANDS.length} command tasks, forks 20, pipelining, ControlPersist`,
            'time (ms)': a.toFixed(0),
            'per task': perTask(a),
            target: 'prov ≥ 15× faster',
            result: `${ratio.toFixed(1)}× ${pass2 ? 'ok' : 'MISSED'}`,
          });
          summary.push(
            `prov ${provMs.toFixed(0)} ms vs ansible-playbook ${a.toFixed(0)} ms for ${COMMANDS.length} commands × ${HOSTS} hosts: prov ${ratio.toFixed(1)}× faster (target ≥ 15×)`,
          );
        }
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(rows);
  for (const line of summary) console.log(line);
  console.log(ok ? 'all targets met' : 'some targets missed');
  return ok;
}
