import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotBody } from '../src/conformance/corpus.js';
import { baselineFile, defaultCorpusDir, runConformance, SECTIONS, type Section } from '../src/conformance/runner.js';

// The runner's workers load the BUILT package (dist/); `npm test` builds first.
const corpusDir = defaultCorpusDir();
const corpusPresent = existsSync(join(corpusDir, 'manifest.json'));

describe('Nickel conformance corpus', () => {
  if (!corpusPresent && !process.env.CI) {
    it.skip(`skipped: the corpus is missing (${corpusDir})`, () => {});
    return;
  }

  it('passes at least the baseline of each section', { timeout: 300_000 }, async () => {
    expect(corpusPresent, `the Nickel conformance corpus is missing: ${corpusDir}`).toBe(true);
    const baseline = JSON.parse(readFileSync(baselineFile(), 'utf8')) as Partial<Record<Section, number>>;
    const report = await runConformance({ corpusDir, timeoutMs: 10_000, totalTimeoutMs: 240_000 });
    expect(report.sections.core.total).toBeGreaterThan(0);
    const passes = Object.fromEntries(SECTIONS.map((s) => [s, report.sections[s].pass]));
    const floor = Object.fromEntries(SECTIONS.map((s) => [s, Math.min(passes[s] ?? 0, baseline[s] ?? 0)]));
    // Equal objects when every section is at or above its baseline; the diff names the sections below.
    expect(floor, 'passes per section must not drop below conformance-baseline.json').toEqual(
      Object.fromEntries(SECTIONS.map((s) => [s, baseline[s] ?? 0])),
    );
  });
});

describe('conformance runner isolation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nickel-conformance-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('survives hanging, exploding and throwing evaluators', { timeout: 60_000 }, async () => {
    const entry = join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      [
        'export async function evaluate(source) {',
        "  if (source.includes('HANG')) for (;;) {}",
        "  if (source.includes('OOM')) { const a = []; for (;;) a.push(new Array(1e6).fill(1)); }",
        "  if (source.includes('THROW')) throw new TypeError('boom');",
        "  if (source.includes('TRUE')) { console.log('noise'); return true; }",
        "  const e = new Error('blamed'); e.kind = 'EvalError::BlameError'; throw e;",
        '}',
      ].join('\n'),
    );
    const corpus = join(dir, 'corpus');
    mkdirSync(join(corpus, 'inputs'), { recursive: true });
    const tests = { hang: 'HANG', oom: 'OOM', throw: 'THROW', true: 'TRUE', blame: 'x' } as const;
    for (const [name, body] of Object.entries(tests)) writeFileSync(join(corpus, 'inputs', `${name}.ncl`), body);
    const entryOf = (name: string, type: 'pass' | 'error') => ({
      path: `${name}.ncl`,
      role: 'test',
      tier: 'core',
      type,
      eval: 'standard',
      tags: [],
      ...(type === 'error' ? { error: 'EvalError::BlameError' } : {}),
    });
    writeFileSync(
      join(corpus, 'manifest.json'),
      JSON.stringify({
        tests: [
          entryOf('hang', 'pass'),
          entryOf('oom', 'pass'),
          entryOf('throw', 'pass'),
          entryOf('true', 'pass'),
          entryOf('blame', 'error'),
          entryOf('hang', 'error'),
          entryOf('true', 'error'),
        ],
      }),
    );
    // The time limit must outlast the out-of-memory case on a loaded machine: it only ends the hanging ones.
    const report = await runConformance({ corpusDir: corpus, entry, timeoutMs: 8_000, memoryLimitMb: 96 });
    const got = report.results.map((r) => [r.path, r.status, r.got, r.message.replace(/ \(at .*/, '')]);
    expect(got).toEqual([
      ['hang.ncl', 'fail', 'crash', 'timeout after 8000 ms'],
      ['oom.ncl', 'fail', 'crash', 'out of memory (limit 96 MB)'],
      ['throw.ncl', 'fail', 'JS TypeError', 'boom'],
      ['true.ncl', 'pass', 'true', ''],
      ['blame.ncl', 'pass', 'EvalError::BlameError', ''],
      ['hang.ncl', 'fail', 'crash', 'timeout after 8000 ms'],
      ['true.ncl', 'fail', 'value true', 'resolved instead of failing'],
    ]);
    expect(report.sections.core).toEqual({ total: 7, pass: 2, fail: 5, notRun: 0 });
    expect(report.tags['(untagged)']).toEqual({ pass: 2, fail: 5, notRun: 0 });
  });

  it('reads insta snapshot bodies', () => {
    expect(snapshotBody('---\nsource: x\nexpression: out\n---\n---\na: 1\n')).toBe('---\na: 1\n');
    expect(snapshotBody('no header')).toBe('');
  });
});
