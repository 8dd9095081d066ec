// `npm run bench [-- NAME...]`: runs bench/<NAME>.mjs for each name (default: all of them).
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_'))
  .map((f) => f.slice(0, -4));
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (have: ${all.join(', ')})`);
  process.exit(2);
}
let failed = false;
for (const name of names.length > 0 ? names : all) {
  console.log(`\n== bench ${name}`);
  const mod = await import(join(here, `${name}.mjs`));
  if ((await mod.default()) === false) failed = true;
}
process.exit(failed ? 1 : 0);
