// The start-up bundle (scripts/build-bundles.mjs) must not change what a user sees: the same
// output, errors and exit codes as the binary run from dist/ (STRATUM_NO_BUNDLE=1).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox, type Tool } from './run-bin.js';

// CommonJS, as bin/run.js loads it (compiled by tsc -b).
const { freshBundle } = createRequire(import.meta.url)(
  '../packages/shared/dist/cli/start.cjs',
) as typeof import('../packages/shared/src/cli/start.cjs');

const isFresh = (tool: Tool) =>
  freshBundle(pathToFileURL(join(import.meta.dirname, '..', 'packages', tool, '/')), {}) !== undefined;

/** Each command once from the bundle and once from dist/, in sandboxes of their own. */
async function both(tool: Tool, args: string[]) {
  const run = async (extra: NodeJS.ProcessEnv) => {
    const { cwd, env } = sandbox();
    const r = await runBin(tool, args, { cwd, env: { ...env, ...extra }, timeoutMs: 60_000 });
    // Paths of the sandbox differ between the two runs.
    const clean = (s: string) => s.replaceAll(cwd, '<sandbox>');
    return { code: r.code, stdout: clean(r.stdout), stderr: clean(r.stderr) };
  };
  const [bundled, plain] = await Promise.all([run({}), run({ STRATUM_NO_BUNDLE: '1' })]);
  return { bundled, plain };
}

const cases: [Tool, string[]][] = [
  ['svault', ['kv', 'get']],
  ['svault', ['kv', 'get', 'secret/x', '--nope']],
  ['svault', ['config', '--json']],
  ['svault', ['autocomplete', 'bash']],
  ['kogral', ['list']],
  ['kogral', ['search', 'x', '--json']],
  ['prov', ['validate', 'missing.ncl']],
  ['prov', ['config', 'log.level']],
  ['typedialog', ['validate', 'missing.toml', '--json']],
  ['vapora', ['task', 'list', '--status', 'nope']],
  ['vapora', ['config', 'nope.key']],
];

/** Skips (fails under CI) when the tool has no bundle built from the current sources. */
function needsBundle(tool: Tool, skip: (why: string) => void): void {
  if (isFresh(tool)) return;
  const why = `no up-to-date bundle for ${tool}: run 'npm run build'`;
  if (process.env.CI) throw new Error(why);
  skip(why);
}

describe('a binary from its bundle and from dist/', { timeout: 180_000 }, () => {
  const named = cases.map(([tool, args]) => ({ tool, args, name: `${tool} ${args.join(' ')}` }));
  it.for(named)('$name: same output, errors and exit code', async ({ tool, args }, { skip }) => {
    needsBundle(tool, skip);
    const { bundled, plain } = await both(tool, args);
    expect(bundled).toEqual(plain);
  });
});

describe('the code cache of a bundled binary', { timeout: 120_000 }, () => {
  it('the first run writes it (a folder of the user, mode 0700, in TMPDIR), later runs give the same output; nothing in HOME', async ({
    skip,
  }) => {
    needsBundle('vapora', skip);
    const { cwd, env } = sandbox();
    const tmp = mkdtempSync(join(tmpdir(), 'code-cache-'));
    const run = () => runBin('vapora', ['config', '--json'], { cwd, env: { ...env, TMPDIR: tmp } });
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    const dirs = readdirSync(tmp);
    expect(dirs).toEqual([`stratumiops-code-cache-${process.getuid?.()}`]);
    expect(statSync(join(tmp, dirs[0] as string)).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(tmp, dirs[0] as string), { recursive: true }).length).toBeGreaterThan(0);
    expect(await run()).toEqual(first);
    expect(readdirSync(cwd)).not.toContain('.cache');
    rmSync(tmp, { recursive: true, force: true });
  });

  it("a first run removes the caches of bundles gone for a day, and keeps other bundles' caches", async ({ skip }) => {
    needsBundle('vapora', skip);
    const { cwd, env } = sandbox();
    const tmp = mkdtempSync(join(tmpdir(), 'code-cache-'));
    const perNode = join(tmp, `stratumiops-code-cache-${process.getuid?.()}`, `${process.version}-${process.arch}`);
    const gone = join(perNode, 'gone');
    const other = join(perNode, 'other');
    mkdirSync(gone, { recursive: true, mode: 0o700 });
    mkdirSync(other, { recursive: true, mode: 0o700 });
    writeFileSync(join(gone, 'bundle-dir'), join(tmp, 'removed-checkout', 'dist', 'bundle'));
    writeFileSync(join(gone, 'main.cjs.1.1'), 'x');
    writeFileSync(join(other, 'bundle-dir'), join(import.meta.dirname, '..', 'packages', 'prov', 'dist', 'bundle'));
    const recent = join(perNode, 'recent');
    mkdirSync(recent, { mode: 0o700 });
    writeFileSync(join(recent, 'bundle-dir'), join(tmp, 'elsewhere', 'dist', 'bundle')); // in use on another machine?
    const dayAndMore = new Date(Date.now() - 25 * 3600_000);
    for (const d of [gone, other]) utimesSync(d, dayAndMore, dayAndMore);
    const r = await runBin('vapora', ['config', '--json'], { cwd, env: { ...env, TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(0);
    const left = readdirSync(perNode);
    expect(left).toContain('other');
    expect(left).toContain('recent'); // used within the day: kept
    expect(left).not.toContain('gone');
    expect(left).toHaveLength(3); // other, recent, and vapora's own
    rmSync(tmp, { recursive: true, force: true });
  });
});
