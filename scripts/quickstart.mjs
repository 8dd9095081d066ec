// `npm run quickstart`: a short tour of the five binaries on embedded defaults, no servers needed.
// Uses a throwaway data dir so it leaves nothing behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = mkdtempSync(join(tmpdir(), 'stratumiops-quickstart-'));
const env = { ...process.env, XDG_DATA_HOME: data };
let failures = 0;

function step(tool, args, { expect = 0, head } = {}) {
  console.log(`\n$ ${tool} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(root, 'packages', tool, 'bin', 'run.js'), ...args], {
    env,
    encoding: 'utf8',
  });
  const out = (r.stdout + r.stderr).trimEnd().split('\n');
  console.log((head ? [...out.slice(0, head), out.length > head ? '  ...' : ''] : out).join('\n').trimEnd());
  if (r.status !== expect) {
    failures++;
    console.log(`!! exit ${r.status}, expected ${expect}`);
  }
}

try {
  for (const tool of ['svault', 'kogral', 'prov', 'typedialog', 'vapora']) {
    console.log(`\n===== ${tool}`);
    step(tool, ['--version']);
    step(tool, ['--help'], { head: 14 });
    step(tool, ['config']);
  }
  console.log('\n===== a daemon, started on demand and stopped');
  step('vapora', ['daemon', 'start']);
  step('vapora', ['daemon', 'status']);
  step('vapora', ['daemon', 'start'], { expect: 6 });
  step('vapora', ['daemon', 'stop']);
  console.log('\n===== errors: one line, a stable exit code');
  step('svault', ['kv', 'gte'], { expect: 2 });
  step('prov', ['config', '--no-such-flag'], { expect: 2 });
  step('svault', ['policy', 'list', '--json'], { expect: 1 });
} finally {
  spawnSync(process.execPath, [join(root, 'packages/vapora/bin/run.js'), 'daemon', 'stop'], { env });
  rmSync(data, { recursive: true, force: true });
}
console.log(failures ? `\nquickstart: ${failures} step(s) did not behave as expected` : '\nquickstart: all steps ok');
process.exit(failures ? 1 : 0);
