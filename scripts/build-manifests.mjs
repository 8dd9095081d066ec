// Writes, for each tool package, oclif.manifest.json (so oclif never scans command files)
// and help-index.json (so --version, help and unknown commands never load oclif at all;
// see packages/shared/src/cli/entry.ts). Runs after `tsc -b`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = ['svault', 'kogral', 'prov', 'typedialog', 'vapora'];
const require = createRequire(join(root, 'packages/shared/package.json'));
const { Plugin } = await import(require.resolve('@oclif/core'));
// oclif only warns about a command module it cannot load; for a build that is an error.
process.on('warning', (w) => {
  console.error(`build-manifests: ${w.message}`);
  process.exitCode = 1;
});

function helpCommand(c) {
  return {
    id: c.id,
    summary: c.summary ?? c.description?.split('\n')[0],
    description: c.summary ? c.description : c.description?.split('\n').slice(1).join('\n').trim() || undefined,
    aliases: c.aliases?.length ? c.aliases : undefined,
    hidden: c.hidden || undefined,
    args: Object.values(c.args ?? {}).map((a) => ({
      name: a.name,
      description: a.description,
      required: a.required || undefined,
      options: a.options,
    })),
    flags: Object.values(c.flags ?? {}).map((f) => ({
      name: f.name,
      char: f.char,
      description: f.summary ?? f.description,
      type: f.type,
      required: f.required || undefined,
      options: f.options,
      default: typeof f.default === 'function' ? undefined : f.default,
      helpValue: f.helpValue,
      multiple: f.multiple || undefined,
      helpGroup: f.helpGroup,
      hidden: f.hidden || undefined,
    })),
    examples: (c.examples ?? []).map((e) => (typeof e === 'string' ? e : `${e.description}\n${e.command}`)),
  };
}

// Plugins' exports hide package.json: resolve the main file and walk up to the package root.
function packageDir(file, name) {
  for (let d = dirname(file); d !== dirname(d); d = dirname(d)) {
    try {
      if (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === name) return d;
    } catch {}
  }
  throw new Error(`cannot find the package root of ${name}`);
}

async function loadManifest(dir, isRoot) {
  const plugin = new Plugin({ root: dir, type: 'core', ignoreManifest: isRoot, respectNoCacheDefault: true, isRoot });
  await plugin.load();
  return { manifest: plugin.manifest, pjson: plugin.pjson };
}

for (const tool of tools) {
  const dir = join(root, 'packages', tool);
  const pjson = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (!pjson.oclif) continue;
  const { manifest } = await loadManifest(dir, true);
  // oclif copies every static property into the manifest; the tool spec (config schema and
  // defaults, tens of KB) rode along on each command, and oclif parses this file on every run.
  for (const c of Object.values(manifest.commands)) delete c.tool;
  writeFileSync(join(dir, 'oclif.manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const commands = {};
  for (const c of Object.values(manifest.commands)) commands[c.id] = helpCommand(c);
  const topics = {};
  for (const [name, t] of Object.entries(pjson.oclif.topics ?? {})) topics[name] = t.description;
  for (const p of pjson.oclif.plugins ?? []) {
    const pdir = packageDir(createRequire(join(dir, 'package.json')).resolve(p), p);
    const pm = JSON.parse(readFileSync(join(pdir, 'oclif.manifest.json'), 'utf8'));
    for (const c of Object.values(pm.commands)) commands[c.id] = helpCommand(c);
  }
  const index = {
    bin: pjson.oclif.bin,
    version: pjson.version,
    description: pjson.oclif.description ?? pjson.description,
    topics,
    commands,
  };
  writeFileSync(join(dir, 'help-index.json'), `${JSON.stringify(index)}\n`);
  console.error(`${tool}: ${Object.keys(commands).length} commands`);
}
