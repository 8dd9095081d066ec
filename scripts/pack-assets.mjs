#!/usr/bin/env node
// npm's prepack/postpack for packages that read the repository's shared assets at run time (schemas/,
// templates/): `node ../../scripts/pack-assets.mjs copy schemas templates` copies them into the package
// before `npm pack`, `... remove schemas templates` takes them out again, so a checkout keeps one copy.
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [action, ...names] = process.argv.slice(2);
const root = resolve(import.meta.dirname, '..');
const pkg = process.cwd();
if (!['copy', 'remove'].includes(action) || names.length === 0 || pkg === root) {
  process.stderr.write('usage (from a package folder): node ../../scripts/pack-assets.mjs copy|remove <folder>...\n');
  process.exit(2);
}
for (const name of names) {
  rmSync(join(pkg, name), { recursive: true, force: true });
  if (action === 'copy') cpSync(join(root, name), join(pkg, name), { recursive: true });
}
