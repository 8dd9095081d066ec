// What a user gets from npm: every workspace packed with `npm pack`, the tarballs installed into an
// empty folder, then each binary run from there: --version and one real command. Slow (an install
// of the whole dependency tree): minutes, hence its own file. better-sqlite3 installs from a prebuilt
// binary, as it does for a user whose npm reaches its release downloads: the one this checkout built
// (or fetched), handed to its installer as a local prebuild. Compiling it again took minutes.
// It installs from the local npm cache first (--offline); when that misses, from the registry; when
// the registry cannot be reached it is skipped with a message, and fails under CI.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const workspaces = ['shared', 'nickel', 'svault', 'kogral', 'prov', 'typedialog', 'vapora'];
const tools = ['svault', 'kogral', 'prov', 'typedialog', 'vapora'];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { ...opts, maxBuffer: 64 * 1024 * 1024, timeout: 2_400_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

let work = '';
let installed = '';
let skipped = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'stratum-pack-'));
  const tarballs = join(work, 'tarballs');
  // A bundle older than dist/ would be packed and, without build inputs to compare, used.
  const bundles = await exec(process.execPath, [join(root, 'scripts', 'build-bundles.mjs')], { cwd: root });
  expect(bundles.code, bundles.stderr).toBe(0);
  mkdirSync(tarballs);
  const pack = await exec(
    'npm',
    ['pack', '--silent', '--pack-destination', tarballs, ...workspaces.flatMap((w) => ['-w', `packages/${w}`])],
    { cwd: root },
  );
  expect(pack.code, pack.stderr).toBe(0);
  installed = join(work, 'app');
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  expect(files).toHaveLength(workspaces.length);
  // A project of a user's: nothing but the tarballs. Only better-sqlite3's build script may run.
  const { allowScripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    allowScripts: Record<string, boolean>;
  };
  mkdirSync(installed);
  writeFileSync(
    join(installed, 'package.json'),
    `${JSON.stringify({ name: 'pack-check', private: true, version: '0.0.0', allowScripts }, null, 2)}\n`,
  );
  const args = ['install', '--no-audit', '--no-fund', '--no-save', ...files];
  const env = { ...process.env, ...(await localPrebuild(work)) };
  let r = await exec('npm', [...args, '--offline'], { cwd: installed, env });
  if (r.code !== 0) r = await exec('npm', args, { cwd: installed, env });
  if (r.code !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH/.test(r.stderr) && !process.env.CI) {
    skipped = `the npm registry cannot be reached and the npm cache lacks packages: ${r.stderr.split('\n')[0]}`;
    console.warn(`skipping the packaging test: ${skipped}`);
    return;
  }
  expect(r.code, r.stderr).toBe(0);
}, 2_400_000);

/**
 * better-sqlite3's installer (prebuild-install) takes `<name>-v<version>-node-v<abi>-<platform>-<arch>.tar.gz`
 * from the folder named by npm_config_better_sqlite3_local_prebuilds before it downloads or compiles.
 * That tarball, made from the checkout's own build; none when the checkout has no build (it compiles).
 */
async function localPrebuild(work: string): Promise<NodeJS.ProcessEnv> {
  const pkg = join(root, 'node_modules', 'better-sqlite3');
  if (!existsSync(join(pkg, 'build', 'Release', 'better_sqlite3.node'))) return {};
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
  const dir = join(work, 'prebuilds');
  mkdirSync(dir);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const tar = await exec('tar', ['-czf', join(dir, name), '-C', pkg, 'build/Release/better_sqlite3.node'], {
    cwd: pkg,
  });
  expect(tar.code, tar.stderr).toBe(0);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const bin = (tool: string) => join(installed, 'node_modules', '.bin', tool);
/** A user's machine: a HOME and data dirs of its own, no CI tricks, no colour. */
const userEnv = () => ({
  PATH: process.env.PATH,
  HOME: join(work, 'home'),
  XDG_CONFIG_HOME: join(work, 'home', 'config'),
  XDG_DATA_HOME: join(work, 'home', 'data'),
  NO_COLOR: '1',
});

describe('installed from npm pack tarballs', { timeout: 300_000 }, () => {
  it('installs no test or type packages', ({ skip }) => {
    if (skipped) skip(skipped);
    const nm = join(installed, 'node_modules');
    const types = existsSync(join(nm, '@types')) ? readdirSync(join(nm, '@types')) : [];
    // @types/node comes with some runtime dependencies' own declarations; ours add none.
    expect(types.filter((t) => ['better-sqlite3', 'nunjucks', 'react'].includes(t))).toEqual([]);
    for (const dev of ['ink-testing-library', 'vitest', 'typescript', 'esbuild', '@biomejs/biome']) {
      expect(existsSync(join(nm, dev)), dev).toBe(false);
    }
    // Each binary ships its start-up bundle.
    for (const tool of tools) {
      expect(existsSync(join(nm, '@stratumiops', tool, 'dist', 'bundle', 'stamp.json')), tool).toBe(true);
    }
  });

  it.for(tools)('%s --version', async (tool, { skip }) => {
    if (skipped) skip(skipped);
    const r = await exec(bin(tool), ['--version'], { cwd: work, env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${tool}/0\\.1\\.0 `));
  });

  it('svault: initializes and unseals a local vault (its daemon holds the keys), then stops it', async ({ skip }) => {
    if (skipped) skip(skipped);
    const env = userEnv();
    const svault = (args: string[]) => exec(bin('svault'), args, { cwd: work, env });
    const init = await svault(['operator', 'init', '--shares', '1', '--threshold', '1', '--json']);
    try {
      expect(init.code, init.stderr).toBe(0);
      const keys = JSON.parse(init.stdout).keys_base64 as string[];
      expect(keys).toHaveLength(1);
      const sealed = await svault(['operator', 'status', '--json']);
      expect(JSON.parse(sealed.stdout)).toMatchObject({ initialized: true, sealed: true });
      const unseal = await svault(['operator', 'unseal', keys[0] as string]);
      expect(unseal.code, unseal.stderr).toBe(0);
      const status = await svault(['operator', 'status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ initialized: true, sealed: false });
    } finally {
      await svault(['daemon', 'stop']);
    }
  });

  it('kogral: init, add, search (better-sqlite3 installed with the package)', async ({ skip }) => {
    if (skipped) skip(skipped);
    const env = userEnv();
    const cwd = join(work, 'notes');
    mkdirSync(cwd);
    for (const args of [['init'], ['add', 'note', 'Connection pool sizing', '--body', 'postgres pool of 20']]) {
      const r = await exec(bin('kogral'), args, { cwd, env });
      expect(r.code, r.stderr).toBe(0);
    }
    const found = await exec(bin('kogral'), ['search', 'postgres pool', '--json'], { cwd, env });
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain('Connection pool sizing');
  });

  it('prov: validates a configuration', async ({ skip }) => {
    if (skipped) skip(skipped);
    // A user's infrastructure repository: only the example; the contracts it imports come with prov.
    const cwd = join(work, 'infra');
    cpSync(join(root, 'examples', 'prov'), join(cwd, 'examples', 'prov'), { recursive: true });
    const ok = await exec(bin('prov'), ['validate', 'examples/prov/web-tier.ncl'], { cwd, env: userEnv() });
    expect(ok.code, ok.stderr).toBe(0);
    const broken = await exec(bin('prov'), ['validate', 'examples/prov/broken/bad-cidr.ncl'], { cwd, env: userEnv() });
    expect(broken.code).toBe(3);
  });

  it('typedialog: validates a form', async ({ skip }) => {
    if (skipped) skip(skipped);
    const r = await exec(bin('typedialog'), ['validate', join(root, 'examples', 'forms', 'cluster.toml'), '--json'], {
      cwd: work,
      env: userEnv(),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true });
  });

  it('vapora: init, a task, the board', async ({ skip }) => {
    if (skipped) skip(skipped);
    const env = userEnv();
    const cwd = join(work, 'team');
    mkdirSync(cwd);
    for (const args of [['init'], ['task', 'create', 'Review the pool change', '--type', 'code_review']]) {
      const r = await exec(bin('vapora'), args, { cwd, env });
      expect(r.code, r.stderr).toBe(0);
    }
    const list = await exec(bin('vapora'), ['task', 'list', '--json'], { cwd, env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('Review the pool change');
  });
});
