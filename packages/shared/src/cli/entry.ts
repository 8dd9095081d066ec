/**
 * The start of every binary. It answers `--version`, help and unknown commands from
 * help-index.json alone, so that none of oclif or any command module is loaded for them
 * (cold start is measured in bench/startup). Everything else goes to oclif.
 * Keep imports here to node builtins and tiny local modules.
 */
import { readFileSync } from 'node:fs';
import { ExitCode, formatErrorLine, StratumError, toErrorReport } from '../errors.js';
import { type HelpIndex, resolve } from './help-index.js';

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

export async function main(root: URL, argv: string[] = process.argv.slice(2)): Promise<void> {
  let index: HelpIndex;
  try {
    index = JSON.parse(readFileSync(new URL('help-index.json', root), 'utf8')) as HelpIndex;
  } catch {
    process.stderr.write(`help-index.json is missing in ${root.pathname}: run 'npm run build' first\n`);
    process.exit(ExitCode.failure);
  }
  const bin = index.bin;
  const first = argv[0];
  if (argv.length === 1 && (first === '--version' || first === '-v' || first === 'version')) {
    process.stdout.write(`${bin}/${index.version} ${process.platform}-${process.arch} node-${process.version}\n`);
    return;
  }
  const { pre, words } = flagWords(argv);
  const helpWord = words[0] === 'help';
  const wantsHelp = helpWord || pre.includes('--help') || pre.includes('-h') || argv.length === 0;
  const target = resolve(index, helpWord ? words.slice(1) : words);
  const json = pre.includes('--json');

  if (target.kind === 'unknown') {
    const err = new StratumError('usage', `'${target.attempted}' is not a ${bin} command`, {
      hint: suggest(index, target.attempted, bin),
    });
    return fail(err, bin, json, pre.includes('--debug'));
  }
  if (wantsHelp || target.kind !== 'command') {
    const { renderHelp } = await import('./help.js');
    process.stdout.write(`${renderHelp(index, target)}\n`);
    return;
  }
  try {
    const oclif = await import('@oclif/core');
    await oclif.run(argv, root.href);
    await oclif.flush();
  } catch (err) {
    fail(err, bin, json, pre.includes('--debug'));
  }
}

/** The one top-level error handler: one line on stderr (a JSON document on stdout with --json). */
export function fail(err: unknown, bin: string, json: boolean, debug: boolean): never {
  const oclifExit = (err as { oclif?: { exit?: number } })?.oclif?.exit;
  if ((err as Error)?.name === 'ExitError' && typeof oclifExit === 'number') process.exit(oclifExit);
  const report = toErrorReport(err, bin);
  if (json) process.stdout.write(`${JSON.stringify({ error: report }, null, 2)}\n`);
  process.stderr.write(`${formatErrorLine(report, bin)}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(report.exitCode);
}

function suggest(index: HelpIndex, word: string, bin: string): string {
  const names = new Set<string>();
  for (const id of Object.keys(index.commands)) names.add(id.split(':')[0] ?? id);
  for (const t of Object.keys(index.topics)) names.add(t.split(':')[0] ?? t);
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const n of names) {
    const d = distance(word, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  const close = best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3));
  return close ? `did you mean '${bin} ${best}'? see '${bin} --help'` : `see '${bin} --help' for the commands`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}
