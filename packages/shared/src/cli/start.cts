/**
 * What bin/run.js calls. A binary runs from its build-time bundle (dist/bundle, written by
 * scripts/build-bundles.mjs: a command loads a few chunks instead of hundreds of files) when the
 * bundle is there and no `tsc -b` has run since it was built; otherwise from dist/ as compiled.
 * STRATUM_NO_BUNDLE=1 forces the latter. Node builtins only: this runs before anything else.
 */
import { readFileSync, statSync } from 'node:fs';

interface Stamp {
  /** Build inputs (paths relative to the bundle) and their mtimes when the bundle was built. */
  sources: { file: string; mtimeMs: number }[];
}

/** The bundle's URL if it can be used. In an installed package the build inputs are absent: it is used. */
export function freshBundle(root: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (env.STRATUM_NO_BUNDLE === '1') return undefined;
  const dir = new URL('dist/bundle/', root);
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(new URL('stamp.json', dir), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  for (const s of stamp.sources) {
    const now = statSync(new URL(s.file, dir), { throwIfNoEntry: false })?.mtimeMs;
    if (now !== undefined && now !== s.mtimeMs) return undefined;
  }
  return new URL('main.js', dir);
}

export async function start(root: URL, argv: string[] = process.argv.slice(2)): Promise<void> {
  const bundle = freshBundle(root);
  if (bundle) {
    const b = (await import(bundle.href)) as typeof import('./entry.js') & {
      commands: import('./entry.js').CommandModules;
    };
    return b.main(root, argv, b.commands);
  }
  const { main } = await import('./entry.js');
  return main(root, argv);
}
