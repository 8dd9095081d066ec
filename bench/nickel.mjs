// Nickel evaluation: a generated N-server config that imports schemas/infrastructure.ncl, evaluated
// and exported to JSON by the built-in engine; JSON.parse of the exported text is the floor.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './_stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { exportFile } = await import(join(root, 'packages/nickel/dist/index.js'));

function config(servers) {
  return `let Infrastructure = import "${join(root, 'schemas', 'infrastructure.ncl')}" in
let server = fun i => {
  name = "node-%{std.to_string i}",
  provider = 'aws,
  plan = "m6i.large",
  role = if i % 3 == 0 then "control-plane" else "worker",
  spec = { cpu = 2 + i % 4, memory_gb = 8, disk_gb = 50 + i % 100, os = { family = 'ubuntu, version = "22.04" } },
  networking = { subnet = "subnet-%{std.to_string (i % 8)}", security_groups = ["nodes"] },
  tags = { index = std.to_string i, team = "platform" },
}
in
{ provider = 'aws, region = "eu-west-1", servers = std.array.generate server ${servers} } | Infrastructure
`;
}

async function measure(file, runs) {
  const times = [];
  const floors = [];
  let text = '';
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    text = await exportFile(file);
    times.push(performance.now() - t0);
    const t1 = performance.now();
    JSON.parse(text);
    floors.push(performance.now() - t1);
  }
  return { ms: median(times), floor: median(floors), bytes: text.length };
}

export default async function nickel() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nickel-'));
  try {
    const rows = [];
    let ok = true;
    const perServer = {};
    for (const [n, runs] of [
      [50, 9],
      [500, 9],
      [5000, 3],
    ]) {
      const file = join(dir, `servers-${n}.ncl`);
      writeFileSync(file, config(n));
      await exportFile(file); // warm-up (JIT)
      const m = await measure(file, runs);
      perServer[n] = m.ms / n;
      const target = n === 500 ? 150 : undefined;
      const pass = target === undefined || m.ms < target;
      ok &&= pass;
      rows.push({
        servers: n,
        'evaluate+export (ms, median)': m.ms.toFixed(1),
        'per server (ms)': (m.ms / n).toFixed(3),
        'JSON.parse floor (ms)': m.floor.toFixed(2),
        'ratio to floor': (m.ms / m.floor).toFixed(0),
        'output (KB)': (m.bytes / 1024).toFixed(0),
        target: target ? `< ${target} ms` : '-',
        result: target ? (pass ? 'ok' : 'MISSED') : '(info)',
      });
    }
    console.table(rows);
    const growth = perServer[5000] / perServer[500];
    const linear = growth <= 1.5;
    ok &&= linear;
    console.log(
      `per-server cost 5000 vs 500 servers: ${growth.toFixed(2)}x (target: linear, <= 1.5x) ${linear ? 'ok' : 'MISSED'}`,
    );
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
