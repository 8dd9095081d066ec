/**
 * Reads the Nickel conformance corpus (`../shared/conformance/nickel`, see its README.md) and turns it into
 * the list of tests to run: core integration tests, examples, and the `export` CLI snapshots.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Job, JobMode } from './protocol.js';

export type Section = 'core' | 'examples' | 'snapshots';
export const SECTIONS: readonly Section[] = ['core', 'examples', 'snapshots'];

/** Tag given to core tests without any manifest tag. */
export const UNTAGGED = '(untagged)';

export type Expected =
  /** Must resolve to exactly `true`. */
  | { type: 'true' }
  /** Must resolve (deep evaluation succeeds; examples). */
  | { type: 'success' }
  /** Must reject with this kind (plain `ParseError` accepts any `ParseError...`) and these fields. */
  | { type: 'error'; kind: string; fields: Record<string, unknown> }
  /** Export text, compared after normalizing line ends and trailing newlines (as insta does). */
  | { type: 'text'; text: string };

export interface Variant {
  /** Shown in messages when a test has several variants. */
  label: string;
  job: Job;
  /** Run in a separate process with this working directory (worker threads cannot chdir). */
  cwd?: string;
}

export interface CorpusTest {
  section: Section;
  /** Relative to the section's folder (inputs/, examples/, cli-snapshots/). */
  path: string;
  tags: string[];
  expected: Expected;
  /** All variants must succeed. */
  variants: Variant[];
}

interface CoreEntry {
  path: string;
  role?: string;
  tier?: string;
  type?: string;
  eval?: string;
  error?: string;
  expectation?: Record<string, unknown>;
  tags?: string[];
  import_paths?: string[];
  note?: string;
}

interface ExampleEntry {
  path: string;
  test?: string;
  role?: string;
}

interface SnapshotCase {
  input: string;
  command: string[];
  capture: string;
  snapshots: string[];
}

/** Core tests that Nickel also runs from their own folder, opened by their bare name (see the README). */
const CWD_VARIANT_TESTS = new Set(['imports/imported/import_parent.ncl']);

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function describeExpected(e: Expected): string {
  switch (e.type) {
    case 'true':
      return 'true';
    case 'success':
      return 'success';
    case 'error': {
      const fields = Object.entries(e.fields).filter(([, v]) => typeof v !== 'object');
      return fields.length ? `${e.kind} {${fields.map(([k, v]) => `${k}=${String(v)}`).join(', ')}}` : e.kind;
    }
    case 'text':
      return 'export text of the snapshot';
  }
}

function coreTests(corpusDir: string): CorpusTest[] {
  const inputs = join(corpusDir, 'inputs');
  const manifest = readJson<{ tests: CoreEntry[] }>(join(corpusDir, 'manifest.json'));
  const tests: CorpusTest[] = [];
  for (const t of manifest.tests) {
    if (t.role !== 'test' || t.tier !== 'core') continue;
    const mode = (t.eval ?? 'standard') as JobMode;
    const file = join(inputs, t.path);
    const importPaths = (t.import_paths ?? []).map((p) => join(inputs, p));
    const expected: Expected =
      t.type === 'error' ? { type: 'error', kind: t.error ?? '?', fields: t.expectation ?? {} } : { type: 'true' };
    const variants: Variant[] = [
      { label: 'from the corpus root', job: { kind: 'eval', file, filename: file, importPaths, mode } },
    ];
    if (CWD_VARIANT_TESTS.has(t.path)) {
      const name = basename(file);
      variants.push({
        label: 'from its own folder',
        job: { kind: 'eval', file: name, filename: name, importPaths, mode },
        cwd: dirname(file),
      });
    }
    const tags = t.tags?.length ? [...t.tags] : [UNTAGGED];
    tests.push({ section: 'core', path: t.path, tags, expected, variants });
  }
  return tests;
}

function exampleTests(corpusDir: string): CorpusTest[] {
  const dir = join(corpusDir, 'examples');
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) return [];
  const manifest = readJson<{ files: ExampleEntry[] }>(manifestFile);
  const tests: CorpusTest[] = [];
  for (const f of manifest.files) {
    if (f.test !== 'pass' && f.test !== 'blame') continue;
    const file = join(dir, f.path);
    const expected: Expected =
      f.test === 'pass' ? { type: 'success' } : { type: 'error', kind: 'EvalError::BlameError', fields: {} };
    tests.push({
      section: 'examples',
      path: f.path,
      tags: [`example-${f.test}`],
      expected,
      variants: [
        { label: 'deep evaluation', job: { kind: 'eval', file, filename: file, importPaths: [], mode: 'full' } },
      ],
    });
  }
  return tests;
}

/** The body of an insta `.snap` file: everything after the second `---` line. */
export function snapshotBody(snap: string): string {
  const lines = snap.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.replace(/\r$/, '') === '---' && ++seen === 2) return lines.slice(i + 1).join('\n');
  }
  return '';
}

/** insta compares snapshots with normalized line ends and without trailing newlines. */
export function normalizeSnapshotText(s: string): string {
  return s.replace(/\r\n/g, '\n').replace(/\n+$/, '');
}

function snapshotTests(corpusDir: string): CorpusTest[] {
  const dir = join(corpusDir, 'cli-snapshots');
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) return [];
  const manifest = readJson<{ cases: SnapshotCase[] }>(manifestFile);
  const tests: CorpusTest[] = [];
  for (const c of manifest.cases) {
    const cmd = c.command.slice(c.command.indexOf('never') + 1);
    if (cmd[0] !== 'export' || c.capture !== 'stdout') continue;
    const snap = c.snapshots.find((s) => s.includes('_stdout_')) ?? c.snapshots[0];
    if (!snap) continue;
    const fmtAt = cmd.indexOf('--format');
    const format = fmtAt >= 0 ? (cmd[fmtAt + 1] ?? 'json') : 'json';
    const importPaths: string[] = [];
    cmd.forEach((a, i) => {
      const next = cmd[i + 1];
      if ((a === '-I' || a === '--import-path') && next) importPaths.push(join(dir, next));
    });
    const file = join(dir, c.input);
    tests.push({
      section: 'snapshots',
      path: c.input,
      tags: [`format:${format}`],
      expected: { type: 'text', text: snapshotBody(readFileSync(join(dir, snap), 'utf8')) },
      variants: [
        { label: `export --format ${format}`, job: { kind: 'export', file, filename: file, importPaths, format } },
      ],
    });
  }
  return tests;
}

/** All tests of the corpus, in manifest order (core, examples, snapshots). */
export function loadCorpus(corpusDir: string): CorpusTest[] {
  return [...coreTests(corpusDir), ...exampleTests(corpusDir), ...snapshotTests(corpusDir)];
}
