// Cold start of each binary against bare `node -e 0`, measured in the same run as
// interleaved pairs; prints the median ratio per tool and command against its target.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = ['svault', 'kogral', 'prov', 'typedialog', 'vapora'];
// `config` runs a real command through oclif (no target yet: it shows what a command costs).
const targets = { '--version': 2.0, '--help': 2.5, config: undefined };
const pairs = Number(process.env.BENCH_PAIRS ?? 15);

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export default function startup() {
  const rows = [];
  let ok = true;
  for (let i = 0; i < 3; i++) time(['-e', '0']); // warm the file cache
  for (const tool of tools) {
    const bin = join(root, 'packages', tool, 'bin', 'run.js');
    for (const [arg, target] of Object.entries(targets)) {
      time([bin, arg]);
      const ratios = [];
      const base = [];
      const cmd = [];
      for (let i = 0; i < pairs; i++) {
        // Alternate the order so drift in machine load hits both sides alike.
        const before = i % 2 === 0 ? time(['-e', '0']) : undefined;
        const c = time([bin, arg]);
        const n = before ?? time(['-e', '0']);
        base.push(n);
        cmd.push(c);
        ratios.push(c / n);
      }
      const ratio = median(ratios);
      const pass = target === undefined || ratio <= target;
      ok &&= pass;
      rows.push({
        command: `${tool} ${arg}`,
        'node -e 0 (ms)': median(base).toFixed(1),
        'command (ms)': median(cmd).toFixed(1),
        ratio: ratio.toFixed(2),
        target: target === undefined ? '-' : `<= ${target.toFixed(1)}`,
        result: target === undefined ? '(info)' : pass ? 'ok' : 'MISSED',
      });
    }
  }
  console.table(rows);
  console.log(`median of ${pairs} pairs each; ${ok ? 'all targets met' : 'some targets missed'}`);
  return ok;
}
