// `npm run conformance:nickel`: runs the built-in Nickel evaluator over the conformance corpus in
// ../shared/conformance/nickel (core integration tests, examples, export CLI snapshots) and prints pass/fail
// by section and by tag. Needs the built package: `npx tsc -b packages/nickel` first.
//
//   --filter <substring>  only tests whose "<section>/<path>" contains the substring
//   --json                print the whole report as JSON instead of the tables
//   --check               exit 1 when a section passes fewer tests than packages/nickel/conformance-baseline.json
//   --timeout <ms>        time limit per test (default 10000)
//   --workers <n>         worker threads (default 2)
//   --corpus <dir>        corpus folder (default <repo>/../shared/conformance/nickel)
//
// Failures go to .conformance/nickel-failures.txt (tab-separated: test, expected, got, message).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(code, message) {
  process.stderr.write(`conformance-nickel: ${message}\n`);
  process.exit(code);
}

let args;
try {
  args = parseArgs({
    options: {
      filter: { type: 'string' },
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      workers: { type: 'string' },
      corpus: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  fail(2, e.message);
}
if (args.help) {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const usage = text
    .split('\n')
    .filter((l) => l.startsWith('//'))
    .map((l) => l.slice(3));
  process.stdout.write(`${usage.join('\n')}\n`);
  process.exit(0);
}

const corpusDir = resolve(args.corpus ?? join(root, '..', 'shared', 'conformance', 'nickel'));
if (!existsSync(join(corpusDir, 'manifest.json'))) {
  const hint = 'expected ../shared/conformance/nickel next to the repository';
  fail(2, `the Nickel conformance corpus is missing: ${corpusDir} (${hint})`);
}
const runnerFile = join(root, 'packages', 'nickel', 'dist', 'conformance', 'runner.js');
if (!existsSync(runnerFile))
  fail(2, `${relative(root, runnerFile)} not found: build first (npx tsc -b packages/nickel)`);

const { runConformance, baselineFile, SECTIONS, ConformanceSetupError } = await import(pathToFileURL(runnerFile).href);

const positiveInt = (name, v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) fail(2, `--${name} expects a positive integer, got ${v}`);
  return n;
};
const filterText = args.filter;
const progress = !args.json && process.stderr.isTTY;
let done = 0;
let failed = 0;

let report;
try {
  report = await runConformance({
    corpusDir,
    filter: filterText === undefined ? undefined : (path, section) => `${section}/${path}`.includes(filterText),
    timeoutMs: args.timeout === undefined ? undefined : positiveInt('timeout', args.timeout),
    workers: args.workers === undefined ? undefined : positiveInt('workers', args.workers),
    onResult: (r) => {
      done++;
      if (r.status === 'fail') failed++;
      if (progress) process.stderr.write(`\r${done} tests run, ${failed} failed`);
    },
  });
} catch (e) {
  if (e instanceof ConformanceSetupError) fail(2, e.message);
  throw e;
}
if (progress) process.stderr.write('\r\x1b[K');

// Failures file.
const outDir = join(root, '.conformance');
mkdirSync(outDir, { recursive: true });
if (!existsSync(join(outDir, '.gitignore'))) writeFileSync(join(outDir, '.gitignore'), '*\n');
const oneLine = (s) => String(s).replace(/[\t\r\n]+/g, ' ');
const failures = report.results.filter((r) => r.status === 'fail');
const failuresFile = join(outDir, 'nickel-failures.txt');
writeFileSync(
  failuresFile,
  `# test\texpected\tgot\tmessage (${failures.length} failures, ${new Date().toISOString()})\n` +
    failures.map((r) => [`${r.section}/${r.path}`, r.expected, r.got, r.message].map(oneLine).join('\t')).join('\n') +
    (failures.length ? '\n' : ''),
);

// Baseline check.
let baseline;
try {
  baseline = JSON.parse(readFileSync(baselineFile(), 'utf8'));
} catch (e) {
  if (args.check) fail(2, `cannot read ${baselineFile()}: ${e.message}`);
  baseline = {};
}
const below = SECTIONS.filter((s) => report.sections[s].pass < (baseline[s] ?? 0));
const checkIgnored = args.check && filterText !== undefined;

if (args.json) {
  process.stdout.write(`${JSON.stringify({ ...report, baseline, belowBaseline: below }, null, 2)}\n`);
} else {
  const pad = (v, n) => String(v).padStart(n);
  const lines = [];
  lines.push(`Nickel conformance: ${relative(process.cwd(), corpusDir) || corpusDir}`);
  lines.push('');
  const row = (name, cells, widths) => name.padEnd(12) + cells.map((c, i) => pad(c, widths[i])).join('');
  const widths = [7, 7, 7, 9, 10];
  lines.push(row('section', ['total', 'pass', 'fail', 'not run', 'baseline'], widths));
  for (const s of SECTIONS) {
    const c = report.sections[s];
    const mark = c.pass < (baseline[s] ?? 0) ? '  < baseline' : '';
    lines.push(row(s, [c.total, c.pass, c.fail, c.notRun, baseline[s] ?? '-'], widths) + mark);
  }
  lines.push('');
  const tags = Object.keys(report.tags).sort((a, b) =>
    a === '(untagged)' ? -1 : b === '(untagged)' ? 1 : a < b ? -1 : 1,
  );
  const width = Math.max(12, ...tags.map((t) => t.length + 2));
  lines.push(`${'tag'.padEnd(width)}${pad('pass', 7)}${pad('fail', 7)}${pad('not run', 9)}`);
  for (const t of tags) {
    const c = report.tags[t];
    lines.push(`${t.padEnd(width)}${pad(c.pass, 7)}${pad(c.fail, 7)}${pad(c.notRun, 9)}`);
  }
  lines.push('');
  const total = report.results.length;
  const pass = report.results.filter((r) => r.status === 'pass').length;
  const notRun = report.results.filter((r) => r.status === 'not-run').length;
  const seconds = (report.durationMs / 1000).toFixed(1);
  lines.push(`total: ${pass}/${total} passed, ${failures.length} failed, ${notRun} not run (${seconds} s)`);
  lines.push(`failures: ${relative(process.cwd(), failuresFile)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (args.check) {
  if (checkIgnored) {
    process.stderr.write('conformance-nickel: --check ignored with --filter (the baseline counts the whole corpus)\n');
  } else if (below.length) {
    for (const s of below) {
      process.stderr.write(
        `conformance-nickel: ${s}: ${report.sections[s].pass} passed, below the baseline of ${baseline[s]}\n`,
      );
    }
    process.exit(1);
  }
}
