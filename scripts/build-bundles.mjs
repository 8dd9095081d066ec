// Bundles each tool binary with esbuild (after `tsc -b` and build-manifests), so that a command
// loads a few chunks instead of ~300 files: the start-up cost of a command (bench/startup.mjs).
// Output: packages/<tool>/dist/bundle/main.cjs (the shared entry plus one lazy import per command,
// read from oclif.manifest.json: new commands are picked up by the next build) and its chunks,
// rewritten from esbuild's ES modules to CommonJS (toCommonJs) so that bin/run.js loads them with a
// V8 code cache; plus stamp.json, which bin/run.js checks (packages/shared/src/cli/start.cts): after
// a `tsc -b` that the bundle has not seen, the binary runs from dist/ as before.
// Left out of the bundle (loaded from node_modules as usual): node builtins, dev-only packages
// (never installed for users), packages with native addons or .wasm files, optional packages
// that are not installed, (L)GPL-licensed packages.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, transform } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const force = process.argv.includes('--force');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages ?? {};
const builtins = new Set(builtinModules);

const posix = (p) => p.split(sep).join('/');
const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** A package with compiled or WebAssembly parts: it must load its files from where npm put them. */
const nativeCache = new Map();
function hasNativeParts(dir) {
  if (nativeCache.has(dir)) return nativeCache.get(dir);
  let found = false;
  const walk = (d, depth) => {
    if (found || depth > 5) return;
    let entries = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === 'node_modules') continue;
      if (e.isDirectory()) walk(join(d, e.name), depth + 1);
      else if (/\.(node|wasm)$/.test(e.name) || e.name === 'binding.gyp') found = true;
    }
  };
  walk(dir, 0);
  nativeCache.set(dir, found);
  return found;
}

/** Why a bare import stays outside the bundle, or undefined to bundle it. */
function externalReason(spec, importer) {
  if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(packageName(spec))) return 'builtin';
  const name = packageName(spec);
  if (name.startsWith('@stratumiops/')) return undefined;
  // The nearest node_modules copy from the importer, as node would find it.
  for (let d = dirname(importer); d !== dirname(d); d = dirname(d)) {
    const dir = join(d, 'node_modules', name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const rel = posix(relative(root, realpathSync(dir)));
    // package-lock.json keys are paths from the repository root (node_modules/a/node_modules/b).
    const entry = lock[rel.startsWith('..') ? rel.slice(rel.indexOf('node_modules/')) : rel];
    if (!entry) return 'not in package-lock.json';
    if (entry.dev || entry.devOptional) return 'dev-only';
    if (hasNativeParts(dir)) return 'native or wasm parts';
    // A (L)GPL library stays the separate, replaceable library npm installed, never copied into our
    // files (openpgp is LGPL-3.0+: what a combined work must allow).
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const licences = [pkg.license, ...(pkg.licenses ?? [])].map((l) => (typeof l === 'object' ? l?.type : l));
    if (licences.some((l) => /GPL/i.test(String(l ?? '')))) return 'copyleft licence';
    return undefined;
  }
  return 'not installed';
}

/** Whether this file is CommonJS (by node's rules, and not ESM syntax a bundler picked by `module`). */
function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true;
  if (file.endsWith('.mjs') || /^\s*(import|export)\s/m.test(readFileSync(file, 'utf8'))) return false;
  for (let d = dirname(file); d !== dirname(d); d = dirname(d)) {
    try {
      return JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).type !== 'module';
    } catch {}
  }
  return true;
}

/**
 * Bundled code that finds files next to itself (`import.meta.url`, `__dirname`) must still find
 * them where they were built or installed. Our packages sit next to each other in both layouts
 * (packages/<name>, node_modules/@stratumiops/<name>), so a path relative to the bundle works;
 * a third-party package's folder is looked up at run time, as node's resolution would find it.
 */
function locatorPlugin(outdir) {
  return {
    name: 'file-locations',
    setup(b) {
      // oclif makes its debug loggers when loaded; the debug package (and tty, net with it) is
      // loaded only when DEBUG is set, which it reads once, at that load: without it they print nothing.
      b.onResolve({ filter: /^debug$/ }, async (args) => {
        if (args.pluginData === 'plain' || !posix(args.importer).includes('/node_modules/@oclif/core/'))
          return undefined;
        const real = await b.resolve('debug', {
          kind: 'require-call',
          resolveDir: args.resolveDir,
          pluginData: 'plain',
        });
        if (real.errors.length > 0) return undefined;
        return { path: real.path, namespace: 'lazy-debug' };
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy-debug' }, (args) => ({
        contents: `module.exports = function createDebug(namespace) {
  if (!process.env.DEBUG) {
    const off = () => {};
    off.enabled = false;
    off.namespace = namespace;
    off.extend = (sub, delimiter = ':') => createDebug(namespace + delimiter + sub);
    return off;
  }
  return require(${JSON.stringify(args.path)})(namespace);
};`,
        loader: 'js',
        resolveDir: dirname(args.path),
      }));
      // Bare specifiers only: '#name' is a package's own import map, resolved inside the bundle.
      b.onResolve({ filter: /^[^./#]/ }, async (args) => {
        if (!args.importer || args.pluginData === 'plain') return undefined;
        if (externalReason(args.path, args.importer)) return { external: true };
        if (args.kind !== 'dynamic-import') return undefined;
        const r = await b.resolve(args.path, {
          kind: 'import-statement',
          resolveDir: args.resolveDir,
          pluginData: 'plain',
        });
        return r.errors.length === 0 && isCommonJs(r.path) ? { path: r.path, namespace: 'cjs-import' } : undefined;
      });
      // `await import('a-commonjs-package')` gives node's named exports (cjs-module-lexer); a split
      // bundle would give only `default`. Re-export what node's own import finds, read at build time.
      b.onLoad({ filter: /.*/, namespace: 'cjs-import' }, async (args) => {
        const names = Object.keys(await import(pathToFileURL(args.path).href)).filter((n) => n !== 'default');
        const lines = [`const m = require(${JSON.stringify(args.path)});`, 'export default m;'];
        for (const [i, n] of names.entries()) lines.push(`const e${i} = m[${JSON.stringify(n)}];`);
        if (names.length > 0)
          lines.push(`export { ${names.map((n, i) => `e${i} as ${JSON.stringify(n)}`).join(', ')} };`);
        return { contents: lines.join('\n'), loader: 'js', resolveDir: dirname(args.path) };
      });
      b.onLoad({ filter: /\.(c|m)?js$/ }, (args) => {
        const read = readFileSync(args.path, 'utf8');
        const src = posix(args.path).includes('/node_modules/@oclif/core/lib/') ? lazyRequires(read) : read;
        if (!/import\.meta\.(url|dirname|filename)|__dirname|__filename/.test(src))
          return src === read ? undefined : { contents: src, loader: 'js', resolveDir: dirname(args.path) };
        const nm = posix(args.path).lastIndexOf('/node_modules/');
        let fileExpr;
        if (nm < 0) {
          fileExpr = `__bundleFile(__chunkUrl, ${JSON.stringify(posix(relative(outdir, args.path)))})`;
        } else {
          const inside = posix(args.path).slice(nm + '/node_modules/'.length);
          const name = packageName(inside);
          fileExpr = `__packageFile(${JSON.stringify(name)}, ${JSON.stringify(inside.slice(name.length + 1))})`;
        }
        const out = src
          .replace(/import\.meta\.url/g, `__fileUrl(${fileExpr})`)
          .replace(/import\.meta\.filename/g, fileExpr)
          .replace(/import\.meta\.dirname/g, `__dirOf(${fileExpr})`)
          .replace(/(?<![\w$.])__filename(?![\w$])/g, fileExpr)
          .replace(/(?<![\w$.])__dirname(?![\w$])/g, `__dirOf(${fileExpr})`);
        return { contents: out, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

/**
 * oclif's modules require every module they might use at their top (`const x_1 = require("./x")`),
 * so a command run loaded its help renderer, plugin loader, TypeScript path mapping, child_process,
 * readline and perf_hooks, none of which it uses. Each such binding becomes a stand-in that requires
 * the module on first use (a property read, write or `in`): the bundle's modules are evaluated only
 * when required, so what is never used is never loaded. Only these two shapes of binding are changed.
 */
function lazyRequires(src) {
  const binding =
    /^(const|var|let) (\w+) = ((?:__importDefault|__importStar)\(require\("[^"]+"\)\)|require\("[^"]+"\));$/gm;
  const out = src.replace(binding, (_, kind, name, expr) => `${kind} ${name} = __lazyModule(() => ${expr});`);
  if (out === src) return src;
  const lazy = `var __lazyModule = (load) => {
  let m;
  const get = () => (m ??= load());
  return new Proxy({}, { get: (_, k) => get()[k], set: (_, k, v) => { get()[k] = v; return true; }, has: (_, k) => k in get() });
};
`;
  // After a "use strict" directive, which must stay the first statement.
  const strict = /^\s*(["'])use strict\1;?\n/.exec(out);
  return strict ? strict[0] + lazy + out.slice(strict[0].length) : lazy + out;
}

// Locators for the code that finds files next to itself (locatorPlugin).
const locators = `const __fileUrl = (f) => __toUrl(f).href;
const __bundleFile = (base, rel) => __toPath(new URL(rel, base));
const __packageDirs = globalThis.__stratumPackageDirs ??= new Map();
const __packageFile = (name, rel) => {
  let dir = __packageDirs.get(name);
  if (dir === undefined) {
    for (let d = __dirOf(__toPath(__chunkUrl)); ; d = __dirOf(d)) {
      const c = __join(d, 'node_modules', name);
      if (__exists(c)) { dir = __realpath(c); break; }
      if (d === __dirOf(d)) throw new Error('cannot find the installed package ' + name);
    }
    __packageDirs.set(name, dir);
  }
  return __join(dir, rel);
};`;

// Prepended to every output file: `require` for bundled CommonJS code, and the locators above.
const banner = `import { createRequire as __createRequire } from 'node:module';
import { existsSync as __exists, realpathSync as __realpath } from 'node:fs';
import { dirname as __dirOf, join as __join } from 'node:path';
import { fileURLToPath as __toPath, pathToFileURL as __toUrl } from 'node:url';
const __chunkUrl = import.meta.url;
const require = __createRequire(__chunkUrl);
${locators}`;

// The same for the CommonJS form of the bundle (see toCommonJs).
const cjsBanner = `'use strict';
const { existsSync: __exists, realpathSync: __realpath } = require('node:fs');
const { dirname: __dirOf, join: __join } = require('node:path');
const { fileURLToPath: __toPath, pathToFileURL: __toUrl } = require('node:url');
const __chunkUrl = __toUrl(__filename).href;
${locators}`;

// What an island (an ES module chunk among CommonJS ones, see toCommonJs) adds to the banner:
// the chunks it imports and its own import() go through the loader that runs the bundle (start.cjs).
const islandBanner = `const __loader = globalThis.__stratumChunkLoaders?.get(__dirOf(__toPath(__chunkUrl)));
if (!__loader) throw new Error('this chunk is loaded by bin/run.js only');
const __chunk = (p) => __loader.load(p);
const __import = (s, o) => __loader.dynamicImport(s, o);`;

/** es-module-lexer (a dependency of vitest) finds the dynamic imports; without it the bundle stays ESM. */
let lexer;
async function dynamicImportLexer() {
  if (lexer === undefined) {
    try {
      const m = await import('es-module-lexer');
      await m.init;
      lexer = m.parse;
    } catch {
      lexer = null;
    }
  }
  return lexer;
}

/**
 * Rewrites the bundle's ES modules as CommonJS files (.cjs), same chunks, same order of evaluation:
 * node 20 has no code cache for ES modules, and compiling the chunks was most of a command's
 * start-up. start.cjs loads them through vm.Script with a code cache. Each `import()` becomes
 * `__import()`, which start.cjs gives each chunk: a sibling chunk or a node builtin is required, anything
 * else is imported by esm-import.mjs from this folder, as before. Returns why not when a chunk cannot
 * be rewritten (top-level await, import.meta): the tool then keeps its ES module bundle.
 */
async function toCommonJs(dir) {
  const parse = await dynamicImportLexer();
  if (!parse) return 'es-module-lexer is not installed';
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
  const out = new Map();
  const islands = new Map();
  const staticImports = new Map();
  for (const f of files) {
    const code = readFileSync(join(dir, f), 'utf8');
    if (!code.startsWith(banner)) return `${f}: no banner`;
    let esm = code.slice(banner.length);
    let imports;
    try {
      [imports] = parse(esm);
    } catch (err) {
      return `${f}: ${err.message}`;
    }
    staticImports.set(
      f,
      imports.filter((i) => i.t === 1 && /^\.\/chunk-[A-Z0-9]+\.js$/.test(i.n ?? '')),
    );
    for (const i of imports.filter((i) => i.t === 2).sort((a, b) => b.ss - a.ss)) {
      if (esm.slice(i.ss, i.ss + 6) !== 'import') return `${f}: an import() the lexer misplaced`;
      esm = `${esm.slice(0, i.ss)}__import${esm.slice(i.ss + 6)}`;
    }
    let r;
    try {
      r = await transform(esm, {
        format: 'cjs',
        loader: 'js',
        platform: 'node',
        target: 'node20',
        logLevel: 'silent',
        sourcefile: f,
      });
    } catch (err) {
      // Top-level await (ink, yoga-layout): the chunk stays an ES module, an island (below).
      if (/Top-level await/.test(err.message)) {
        islands.set(f, esm);
        continue;
      }
      return `${f}: ${err.message.split('\n')[0]}`;
    }
    if (r.warnings.length > 0) return `${f}: ${r.warnings[0].text}`;
    const body = r.code
      // Sibling chunks by their new names.
      .replace(/\brequire\("\.\/((?:chunk-[A-Z0-9]+)|main)\.js"\)/g, 'require("./$1.cjs")')
      // A default import of a package is its module.exports, as node's ESM loader gives it.
      .replace(/\b(__toESM\d*)\(require\(("[^".][^"]*")\)\)/g, '$1(require($2), 1)');
    out.set(f, `${cjsBanner}\n${body}`);
  }
  // An island is reached only by import() (start.cjs imports it as an ES module); the chunks it
  // imports are the loader's own instances, taken from it (no second copy of any module).
  for (const [f, esm] of islands) {
    for (const [g, list] of staticImports)
      if (!islands.has(g) && list.some((i) => i.n === `./${f}`)) return `${g} imports ${f}, which has top-level await`;
    let text = esm;
    const list = [...(staticImports.get(f) ?? [])].sort((a, b) => b.ss - a.ss);
    for (const i of list) {
      if (islands.has(i.n.slice(2))) continue;
      const stmt = text.slice(i.ss, i.se);
      const m = /^import\s*(?:\{([^}]*)\}\s*from\s*)?"[^"]+";?$/.exec(stmt);
      if (!m) return `${f}: cannot rewrite '${stmt.slice(0, 60)}'`;
      const names = (m[1] ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .map((n) => n.replace(/^(\S+)\s+as\s+(\S+)$/, '$1: $2'));
      const load = `__chunk(${JSON.stringify(i.n.replace(/\.js$/, '.cjs'))})`;
      text = `${text.slice(0, i.ss)}${names.length ? `const { ${names.join(', ')} } = ${load}` : load}${text.slice(i.se)}`;
    }
    out.set(f, `${banner}\n${islandBanner}\n${text}`);
  }
  for (const [f, code] of out) {
    if (islands.has(f)) writeFileSync(join(dir, f), code);
    else {
      writeFileSync(join(dir, f.replace(/\.js$/, '.cjs')), code);
      rmSync(join(dir, f));
    }
  }
  writeFileSync(join(dir, 'esm-import.mjs'), 'export default (specifier, options) => import(specifier, options);\n');
  return undefined;
}

/**
 * What a command from the bundle reads instead of the whole help-index.json and oclif.manifest.json
 * (parsing both was ~10 ms of a start): router.json, the commands' ids, aliases and flag names (to
 * find the command; entry.ts reads help-index.json when it shows help), and manifest/<id>.json, the
 * one command's entry of oclif's manifest (entry.ts bundledConfig; the id URI-encoded, as ':' cannot be in
 * every file system's names).
 */
function writeIndexes(dir, staging, manifest, pjson) {
  const help = JSON.parse(readFileSync(join(dir, 'help-index.json'), 'utf8'));
  const commands = {};
  for (const [id, c] of Object.entries(help.commands)) {
    commands[id] = { id, aliases: c.aliases, args: [], flags: c.flags.map((f) => ({ name: f.name })), examples: [] };
  }
  const topics = Object.fromEntries(Object.keys(help.topics).map((t) => [t, '']));
  const router = { router: true, bin: help.bin, version: help.version, description: '', topics, commands };
  writeFileSync(join(staging, 'router.json'), `${JSON.stringify(router)}\n`);
  mkdirSync(join(staging, 'manifest'));
  for (const [id, c] of Object.entries(manifest.commands)) {
    if (c.pluginName !== pjson.name) continue;
    writeFileSync(
      join(staging, 'manifest', `${encodeURIComponent(id)}.json`),
      `${JSON.stringify({ version: manifest.version, command: c })}\n`,
    );
  }
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The files whose change makes a bundle stale: each workspace package's build info, the manifest. */
function stampSources(dir, outdir) {
  const files = readdirSync(packagesDir).map((p) => join(packagesDir, p, 'tsconfig.tsbuildinfo'));
  files.push(join(dir, 'oclif.manifest.json'), join(dir, 'package.json'));
  return files.filter((f) => existsSync(f)).map((f) => ({ file: posix(relative(outdir, f)), mtimeMs: mtime(f) }));
}

function isFresh(outdir) {
  try {
    const stamp = JSON.parse(readFileSync(join(outdir, 'stamp.json'), 'utf8'));
    return (
      stamp.bundler === mtime(fileURLToPath(import.meta.url)) &&
      stamp.sources.every((s) => mtime(join(outdir, s.file)) === s.mtimeMs) &&
      (existsSync(join(outdir, 'main.cjs')) || existsSync(join(outdir, 'main.js')))
    );
  } catch {
    return false;
  }
}

let failed = false;
for (const tool of readdirSync(packagesDir)) {
  const dir = join(packagesDir, tool);
  const pjson = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (!pjson.oclif || !pjson.bin) continue;
  const outdir = join(dir, 'dist', 'bundle');
  if (!force && isFresh(outdir)) {
    console.error(`${tool}: bundle up to date`);
    continue;
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'oclif.manifest.json'), 'utf8'));
  const commands = Object.values(manifest.commands)
    .filter((c) => c.pluginName === pjson.name && Array.isArray(c.relativePath))
    .map((c) => `  ${JSON.stringify(c.id)}: () => import(${JSON.stringify(`./${c.relativePath.join('/')}`)}),`);
  const entry = [
    "export { main } from '@stratumiops/shared/cli/entry';",
    'export const commands = {',
    ...commands,
    '};',
    '',
  ].join('\n');
  // Built next to its place (same depth: relative paths hold) and swapped in whole, so that a
  // binary started meanwhile, or another build, never sees half a bundle.
  const staging = `${outdir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const sources = stampSources(dir, outdir);
  const t0 = Date.now();
  try {
    const result = await build({
      stdin: { contents: entry, resolveDir: dir, sourcefile: 'bundle-entry.js', loader: 'js' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outdir: staging,
      absWorkingDir: root,
      entryNames: 'main',
      chunkNames: 'chunk-[hash]',
      banner: { js: banner },
      plugins: [locatorPlugin(outdir)],
      logLevel: 'error',
      legalComments: 'none',
      metafile: true,
    });
    // Only the packages compiled into this bundle (and the tool's own manifest and package.json).
    const used = new Set(
      Object.keys(result.metafile.inputs)
        .map((f) => /^packages\/([^/]+)\/dist\//.exec(posix(f))?.[1])
        .filter(Boolean),
    );
    const own = sources.filter((s) => {
      const m = /^\.\.\/\.\.\/\.\.\/([^/]+)\/tsconfig\.tsbuildinfo$/.exec(s.file);
      return m ? used.has(m[1]) : true;
    });
    writeIndexes(dir, staging, manifest, pjson);
    const whyEsm = process.env.STRATUM_BUNDLE_ESM === '1' ? 'STRATUM_BUNDLE_ESM=1' : await toCommonJs(staging);
    if (whyEsm) console.error(`${tool}: the bundle stays ES modules (no code cache): ${whyEsm}`);
    // `bundler`: this script's mtime, so that a change here rebuilds (only the build checks it).
    const stamp = { sources: own, bundler: mtime(fileURLToPath(import.meta.url)) };
    writeFileSync(join(staging, 'stamp.json'), `${JSON.stringify(stamp, null, 1)}\n`);
    const old = `${outdir}.old-${process.pid}`;
    if (existsSync(outdir)) renameSync(outdir, old);
    renameSync(staging, outdir);
    rmSync(old, { recursive: true, force: true });
    const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
    const files = Object.keys(result.metafile.outputs).length;
    console.error(
      `${tool}: bundled ${commands.length} commands, ${files} files, ${(bytes / 1e6).toFixed(1)} MB in ${Date.now() - t0} ms`,
    );
  } catch (err) {
    // The binary still runs from dist/ without a bundle (start.ts): report, fail the build.
    rmSync(staging, { recursive: true, force: true });
    rmSync(outdir, { recursive: true, force: true });
    console.error(`${tool}: bundling failed: ${err.message}`);
    failed = true;
  }
}
if (failed) process.exit(1);
