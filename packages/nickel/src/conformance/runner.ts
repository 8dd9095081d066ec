/**
 * Conformance runner for the built-in Nickel evaluator over the corpus in `../shared/conformance/nickel`
 * (relative to the repository root): core integration tests, examples and `export` CLI snapshots.
 * Tests run in worker threads that load the BUILT package (dist/index.js): build first with
 * `npx tsc -b packages/nickel`.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type CorpusTest,
  describeExpected,
  type Expected,
  loadCorpus,
  normalizeSnapshotText,
  SECTIONS,
  type Section,
} from './corpus.js';
import { WorkerPool } from './pool.js';
import type { ErrorInfo, Outcome } from './protocol.js';

export { loadCorpus, SECTIONS, type Section, snapshotBody, UNTAGGED } from './corpus.js';

export type TestStatus = 'pass' | 'fail' | 'not-run';

export interface TestResult {
  section: Section;
  /** Relative to the section's folder (inputs/, examples/, cli-snapshots/). */
  path: string;
  tags: string[];
  ok: boolean;
  status: TestStatus;
  expected: string;
  got: string;
  message: string;
  ms: number;
}

export interface SectionCounts {
  total: number;
  pass: number;
  fail: number;
  notRun: number;
}

export interface TagCounts {
  pass: number;
  fail: number;
  notRun: number;
}

export interface Report {
  corpusDir: string;
  entry: string;
  startedAt: string;
  durationMs: number;
  results: TestResult[];
  sections: Record<Section, SectionCounts>;
  /** Per tag (core manifest tags and `(untagged)`, `example-pass`/`example-blame`, `format:<fmt>`). */
  tags: Record<string, TagCounts>;
}

export interface RunOptions {
  corpusDir: string;
  /** Which tests to run; `path` is relative to the section's folder. */
  filter?: (path: string, section: Section) => boolean;
  /** Per test (default 10 s). */
  timeoutMs?: number;
  onResult?: (r: TestResult) => void;
  /** Worker threads (default: 2, at most the number of CPUs). */
  workers?: number;
  /** V8 old-generation limit of each worker (default 1024 MB). */
  memoryLimitMb?: number;
  /** Stack size of each worker thread (default 4 MB, Node's default for workers). */
  stackSizeMb?: number;
  /** Replace a worker after this many tests (default 50). */
  recycleAfter?: number;
  /** Budget for the whole run: tests not started when it is spent are reported as not run. */
  totalTimeoutMs?: number;
  /** Evaluator module URL or path (default: packages/nickel/dist/index.js). */
  entry?: string;
}

/** Thrown when the corpus or the build is missing. */
export class ConformanceSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceSetupError';
  }
}

const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** `<repo>/../shared/conformance/nickel`. */
export function defaultCorpusDir(): string {
  return fileURLToPath(new URL('../../../../../shared/conformance/nickel', import.meta.url));
}

/** packages/nickel/conformance-baseline.json */
export function baselineFile(): string {
  return join(PACKAGE_DIR, 'conformance-baseline.json');
}

function firstLine(s: string): string {
  const t = s.trimStart();
  const i = t.indexOf('\n');
  return i < 0 ? t : t.slice(0, i);
}

function kindMatches(expected: string, got: string | undefined): boolean {
  if (got === undefined) return false;
  // Nickel's runner: a plain `ParseError` accepts any parse error of the main file (not ImportError::ParseError).
  if (expected === 'ParseError') return got === 'ParseError' || got.startsWith('ParseError::');
  return got === expected;
}

function describeError(e: ErrorInfo): string {
  if (e.kind === undefined) return `JS ${e.name}`;
  const fields = Object.entries(e.fields);
  return fields.length ? `${e.kind} {${fields.map(([k, v]) => `${k}=${v}`).join(', ')}}` : e.kind;
}

interface Verdict {
  status: TestStatus;
  got: string;
  message: string;
}

function judge(expected: Expected, o: Outcome): Verdict {
  switch (o.status) {
    case 'unavailable':
      return { status: 'not-run', got: 'not run', message: o.message };
    case 'crash':
      return { status: 'fail', got: 'crash', message: o.message };
    case 'error': {
      const got = describeError(o.error);
      if (expected.type !== 'error') return { status: 'fail', got, message: firstLine(o.error.message) };
      if (!kindMatches(expected.kind, o.error.kind))
        return { status: 'fail', got, message: firstLine(o.error.message) };
      for (const [k, v] of Object.entries(expected.fields)) {
        if (typeof v === 'object') continue; // nested `cause` (static tier only)
        if (o.error.fields[k] !== String(v)) {
          return {
            status: 'fail',
            got,
            message: `${k}: expected ${String(v)}, got ${o.error.fields[k] ?? '(none)'}; ${firstLine(o.error.message)}`,
          };
        }
      }
      return { status: 'pass', got, message: '' };
    }
    case 'value':
      if (expected.type === 'true') {
        return o.isTrue
          ? { status: 'pass', got: 'true', message: '' }
          : { status: 'fail', got: `value ${o.preview}`, message: 'resolved to a value other than true' };
      }
      if (expected.type === 'success') return { status: 'pass', got: 'success', message: '' };
      return { status: 'fail', got: `value ${o.preview}`, message: 'resolved instead of failing' };
    case 'text': {
      if (expected.type !== 'text') return { status: 'fail', got: 'text', message: 'unexpected export text' };
      const want = normalizeSnapshotText(expected.text);
      const have = normalizeSnapshotText(o.text);
      if (want === have) return { status: 'pass', got: 'same text', message: '' };
      const a = want.split('\n');
      const b = have.split('\n');
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return {
        status: 'fail',
        got: 'different text',
        message: `line ${i + 1}: expected ${JSON.stringify(a[i] ?? '<end>')}, got ${JSON.stringify(b[i] ?? '<end>')}`,
      };
    }
  }
}

async function runTest(pool: WorkerPool, t: CorpusTest): Promise<TestResult> {
  const start = Date.now();
  const expected = describeExpected(t.expected);
  let verdict: Verdict = { status: 'pass', got: '', message: '' };
  for (const v of t.variants) {
    const outcome = await pool.run(v.job, v.cwd);
    verdict = judge(t.expected, outcome);
    if (verdict.status !== 'pass') {
      if (t.variants.length > 1) verdict = { ...verdict, message: `(${v.label}) ${verdict.message}` };
      break;
    }
  }
  return {
    section: t.section,
    path: t.path,
    tags: t.tags,
    ok: verdict.status === 'pass',
    status: verdict.status,
    expected,
    got: verdict.got,
    message: verdict.message,
    ms: Date.now() - start,
  };
}

/** Counts per section and per tag. */
export function summarize(results: TestResult[]): Pick<Report, 'sections' | 'tags'> {
  const sections = Object.fromEntries(SECTIONS.map((s) => [s, { total: 0, pass: 0, fail: 0, notRun: 0 }])) as Record<
    Section,
    SectionCounts
  >;
  const tags: Record<string, TagCounts> = {};
  for (const r of results) {
    const s = sections[r.section];
    s.total++;
    const key = r.status === 'pass' ? 'pass' : r.status === 'fail' ? 'fail' : 'notRun';
    s[key]++;
    for (const tag of r.tags) {
      tags[tag] ??= { pass: 0, fail: 0, notRun: 0 };
      tags[tag][key]++;
    }
  }
  return { sections, tags };
}

/** Runs the corpus. Throws ConformanceSetupError when the corpus or the built package is missing. */
export async function runConformance(opts: RunOptions): Promise<Report> {
  const startedAt = new Date();
  const corpusDir = opts.corpusDir;
  if (!existsSync(join(corpusDir, 'manifest.json'))) {
    throw new ConformanceSetupError(`Nickel conformance corpus not found: ${join(corpusDir, 'manifest.json')}`);
  }
  const workerFile = fileURLToPath(new URL('../../dist/conformance/worker.js', import.meta.url));
  const entryUrl = opts.entry
    ? opts.entry.includes('://')
      ? opts.entry
      : pathToFileURL(opts.entry).href
    : new URL('../../dist/index.js', import.meta.url).href;
  for (const f of [workerFile, fileURLToPath(entryUrl)]) {
    if (!existsSync(f)) {
      throw new ConformanceSetupError(`${f} not found: build the package first (npx tsc -b packages/nickel)`);
    }
  }

  const tests = loadCorpus(corpusDir).filter((t) => !opts.filter || opts.filter(t.path, t.section));
  const size = Math.max(1, Math.min(opts.workers ?? 2, cpus().length || 1));
  const pool = new WorkerPool(size, {
    workerFile,
    entry: entryUrl,
    timeoutMs: opts.timeoutMs ?? 10_000,
    memoryLimitMb: opts.memoryLimitMb ?? 1024,
    stackSizeMb: opts.stackSizeMb ?? 4,
    recycleAfter: opts.recycleAfter ?? 50,
  });
  const deadline = opts.totalTimeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.totalTimeoutMs;
  const results: TestResult[] = new Array(tests.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < tests.length; i = next++) {
      const t = tests[i] as CorpusTest;
      const r: TestResult =
        Date.now() > deadline
          ? {
              section: t.section,
              path: t.path,
              tags: t.tags,
              ok: false,
              status: 'not-run',
              expected: describeExpected(t.expected),
              got: 'not run',
              message: 'the time budget of the run was spent',
              ms: 0,
            }
          : await runTest(pool, t);
      results[i] = r;
      opts.onResult?.(r);
    }
  };
  try {
    await Promise.all(Array.from({ length: size }, lane));
  } finally {
    await pool.close();
  }
  return {
    corpusDir,
    entry: entryUrl,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    results,
    ...summarize(results),
  };
}
