/**
 * The start of every binary. It answers `--version`, help and unknown commands from
 * help-index.json alone, so that none of oclif or any command module is loaded for them
 * (cold start is measured in bench/startup). Everything else goes to oclif.
 * Keep imports here to node builtins and tiny local modules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '@oclif/core/command';
import type * as Interfaces from '@oclif/core/interfaces';
import { ExitCode, formatErrorLine, StratumError, toErrorReport } from '../errors.js';
import { childNames, type HelpIndex, resolve } from './help-index.js';

function flagWords(argv: string[]): { pre: string[]; words: string[] } {
  const dd = argv.indexOf('--');
  const pre = dd < 0 ? argv : argv.slice(0, dd);
  const words: string[] = [];
  for (const a of pre) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  return { pre, words };
}

/**
 * Vault's CLI (Go's flag package) spells long flags with one dash: `-version=1`, `-dev`,
 * `-policy app`. A single-dash word that names one of the command's long flags is that flag.
 */
function singleDashLongFlags(argv: string[], flags: readonly { name: string }[]): string[] {
  const names = new Set(flags.map((f) => f.name));
  const end = argv.indexOf('--');
  return argv.map((a, i) => {
    if (end >= 0 && i > end) return a;
    const m = /^-([a-z][a-z0-9-]+)(=.*)?$/.exec(a);
    return m && names.has(m[1] as string) ? `-${a}` : a;
  });
}

/**
 * The tool's own command modules by id, when the binary runs from its build-time bundle
 * (scripts/build-bundles.mjs): a command then loads one chunk of the bundle instead of hundreds
 * of files. Commands not in it (plugins' commands) run through the installed oclif as before.
 */
export type CommandModules = Record<string, () => Promise<Record<string, unknown>>>;

const OCLIF = '@oclif/core';

export async function main(
  root: URL,
  argv: string[] = process.argv.slice(2),
  bundled: CommandModules = {},
): Promise<void> {
  const index = readIndex(root, bundled);
  const bin = index.bin;
  const first = argv[0];
  if (argv.length === 1 && (first === '--version' || first === '-v' || first === 'version')) {
    process.stdout.write(`${bin}/${index.version} ${process.platform}-${process.arch} node-${process.version}\n`);
    return;
  }
  const { words } = flagWords(argv);
  const helpWord = words[0] === 'help';
  const target = resolve(index, helpWord ? words.slice(1) : words);
  if (target.kind === 'command') argv = singleDashLongFlags(argv, target.command.flags);
  const { pre } = flagWords(argv);
  const wantsHelp = helpWord || pre.includes('--help') || pre.includes('-h') || argv.length === 0;
  const json = pre.includes('--json');

  if (target.kind === 'unknown') {
    const err = new StratumError('usage', `'${target.attempted}' is not a ${bin} command`, {
      hint: suggest(index, target.scope, target.attempted.split(' ').at(-1) ?? '', bin),
    });
    return fail(err, bin, { json, debug: pre.includes('--debug') });
  }
  if (wantsHelp || target.kind !== 'command') {
    const { renderHelp } = await import('./help.js');
    // The router (a bundle's) has no help texts: the target again, in the whole index.
    const full = index.router ? readIndex(root, {}) : index;
    const shown = index.router ? resolve(full, helpWord ? words.slice(1) : words) : target;
    process.stdout.write(`${renderHelp(full, shown)}\n`);
    return;
  }
  try {
    if (target.command.id in bundled) {
      // The bundle's copy of oclif, only the parts a command run needs: its index loads every part
      // and checks node's version against oclif's own engines on each start.
      const [{ run }, { flush }, { Plugin }] = await Promise.all([
        import('@oclif/core/run'),
        import('@oclif/core/flush'),
        import('@oclif/core/config'),
      ]);
      await run(argv, await bundledConfig(Plugin, root, bundled, target.command.id));
      await flush();
    } else {
      // Plugins' commands (autocomplete) need the installed oclif, which a specifier in a variable
      // keeps out of the bundle.
      const oclif = ((await import(OCLIF)) as { default: typeof import('@oclif/core') }).default;
      await oclif.run(argv, root.href);
      await oclif.flush();
    }
  } catch (err) {
    const usageHint = `see '${bin} ${target.command.id.replaceAll(':', ' ')} --help'`;
    fail(err, bin, { json, debug: pre.includes('--debug'), usageHint });
  }
}

/**
 * help-index.json; from a bundle, its router.json (ids, aliases and flag names only, written by
 * scripts/build-bundles.mjs): what finding the command needs, a tenth of the size to parse.
 */
function readIndex(root: URL, bundled: CommandModules): HelpIndex & { router?: boolean } {
  for (const _ in bundled) {
    try {
      return JSON.parse(readFileSync(new URL('dist/bundle/router.json', root), 'utf8')) as HelpIndex;
    } catch {
      break;
    }
  }
  try {
    return JSON.parse(readFileSync(new URL('help-index.json', root), 'utf8')) as HelpIndex;
  } catch {
    process.stderr.write(`help-index.json is missing in ${root.pathname}: run 'npm run build' first\n`);
    process.exit(ExitCode.failure);
  }
}

/**
 * oclif's load options for a bundled binary: the root plugin finds command classes in the bundle
 * (by the same ids as its manifest) instead of importing dist/commands/**; no other plugin is loaded.
 * Its manifest holds only the command that runs (entry.ts found it already): oclif would otherwise
 * index and sort (with ICU collation) every command on each run.
 */
async function bundledConfig(
  Plugin: typeof import('@oclif/core/config').Plugin,
  root: URL,
  bundled: CommandModules,
  id: string,
) {
  const dir = fileURLToPath(root);
  const pjson = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const plugin = new Plugin({ root: dir, isRoot: true, pjson, type: 'core' });
  const only = commandManifest(dir, id);
  (plugin as unknown as { _manifest: () => Promise<Interfaces.Manifest> })._manifest = async () => ({
    version: only.version,
    commands: only.command ? { [id]: only.command } : {},
  });
  await plugin.load();
  const fromFiles = plugin.findCommand.bind(plugin);
  plugin.findCommand = (async (id: string, opts?: { must: boolean }) => {
    const load = bundled[id];
    if (!load) return fromFiles(id, opts);
    const mod = await load();
    const cmd = (mod.default ?? Object.values(mod).find((v) => typeof v === 'function')) as Command.Class;
    cmd.id = id;
    cmd.plugin = plugin;
    return cmd;
  }) as typeof plugin.findCommand;
  return { root: dir, pjson, plugins: new Map<string, Interfaces.Plugin>([[plugin.name, plugin]]) };
}

/** The command's entry of oclif's manifest: from the bundle's manifest/<id>.json, else the whole manifest. */
function commandManifest(dir: string, id: string): { version: string; command?: Command.Cached } {
  try {
    return JSON.parse(readFileSync(join(dir, 'dist', 'bundle', 'manifest', `${encodeURIComponent(id)}.json`), 'utf8'));
  } catch {
    const manifest = JSON.parse(readFileSync(join(dir, 'oclif.manifest.json'), 'utf8')) as Interfaces.Manifest;
    return { version: manifest.version, command: manifest.commands[id] };
  }
}

/** The one top-level error handler: one line on stderr (a JSON document on stdout with --json). */
export function fail(err: unknown, bin: string, opts: { json: boolean; debug: boolean; usageHint?: string }): never {
  // this.exit(n) inside a command: a deliberate exit code, not an error to report.
  const e = err as { code?: string; oclif?: { exit?: number } } | undefined;
  if (e?.code === 'EEXIT' && typeof e.oclif?.exit === 'number') process.exit(e.oclif.exit);
  const report = toErrorReport(err, opts.usageHint);
  if (opts.json) {
    const { display: _display, ...doc } = report;
    process.stdout.write(`${JSON.stringify({ error: doc }, null, 2)}\n`);
  }
  process.stderr.write(`${formatErrorLine(report, bin)}\n`);
  if (opts.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(report.exitCode);
}

function suggest(index: HelpIndex, scope: string, word: string, bin: string): string {
  const names = childNames(index, scope);
  const where = scope ? `${bin} ${scope.replaceAll(':', ' ')}` : bin;
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const n of names) {
    const d = distance(word, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  const close = best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3));
  return close ? `did you mean '${where} ${best}'? see '${where} --help'` : `see '${where} --help' for the commands`;
}

/** Edit distance where swapping two neighbouring letters counts as one edit (typos like 'gte'). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}
