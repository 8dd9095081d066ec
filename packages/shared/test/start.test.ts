import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// CommonJS, as bin/run.js loads it (compiled by tsc -b).
const { freshBundle } = createRequire(import.meta.url)(
  '../dist/cli/start.cjs',
) as typeof import('../src/cli/start.cjs');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A tool package with a bundle whose stamp records one build input, as scripts/build-bundles.mjs writes it. */
function toolWithBundle(opts: { input?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'start-'));
  dirs.push(root);
  mkdirSync(join(root, 'dist', 'bundle'), { recursive: true });
  writeFileSync(join(root, 'dist', 'bundle', 'main.js'), '');
  const input = join(root, 'tsconfig.tsbuildinfo');
  if (opts.input !== false) writeFileSync(input, '{}');
  const mtimeMs = opts.input !== false ? statSync(input).mtimeMs : 1;
  writeFileSync(
    join(root, 'dist', 'bundle', 'stamp.json'),
    JSON.stringify({ sources: [{ file: '../../tsconfig.tsbuildinfo', mtimeMs }] }),
  );
  return { root, url: pathToFileURL(`${root}/`), input };
}

describe('which code a binary runs', () => {
  it('the bundle, while its build inputs are as they were', () => {
    const t = toolWithBundle();
    expect(freshBundle(t.url, {})?.href).toBe(pathToFileURL(join(t.root, 'dist', 'bundle', 'main.js')).href);
  });

  it('dist/ after a compile the bundle has not seen', () => {
    const t = toolWithBundle();
    const later = new Date(Date.now() + 5_000);
    utimesSync(t.input, later, later);
    expect(freshBundle(t.url, {})).toBeUndefined();
  });

  it('the bundle in an installed package, where the build inputs are absent', () => {
    const t = toolWithBundle({ input: false });
    expect(freshBundle(t.url, {})).toBeDefined();
  });

  it('dist/ without a bundle, with half a bundle (no stamp yet), or with STRATUM_NO_BUNDLE=1', () => {
    const t = toolWithBundle();
    expect(freshBundle(t.url, { STRATUM_NO_BUNDLE: '1' })).toBeUndefined();
    rmSync(join(t.root, 'dist', 'bundle', 'stamp.json'));
    expect(freshBundle(t.url, {})).toBeUndefined();
    rmSync(join(t.root, 'dist', 'bundle'), { recursive: true });
    expect(freshBundle(t.url, {})).toBeUndefined();
  });
});
