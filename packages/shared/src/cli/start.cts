/**
 * What bin/run.js calls. CommonJS, like bin/run.js (bin/package.json): a command from the bundle
 * then starts without node's ES module loader, whose set-up was a good part of a start. A binary runs from its build-time bundle (dist/bundle, written by
 * scripts/build-bundles.mjs: a command loads a few chunks instead of hundreds of files) when the
 * bundle is there and no `tsc -b` has run since it was built; otherwise from dist/ as compiled.
 * STRATUM_NO_BUNDLE=1 forces the latter. Node builtins only: this runs before anything else.
 *
 * The bundle's chunks are CommonJS files (main.cjs) loaded here through vm.Script with a V8 code
 * cache, kept per user in the temporary folder (cacheDir): node 20 has no code cache for
 * ES modules, and compiling the chunks was most of a command's start-up. A bundle that could not
 * be written as CommonJS (main.js) is imported as ES modules, as before.
 */
import buffer = require('node:buffer');
import fs = require('node:fs');
import nodeModule = require('node:module');
import os = require('node:os');
import path = require('node:path');
import url = require('node:url');
import vm = require('node:vm');

const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = fs;
const { dirname, join } = path;

interface Stamp {
  /** Build inputs (paths relative to the bundle) and their mtimes when the bundle was built. */
  sources: { file: string; mtimeMs: number }[];
}

/** The bundle's URL if it can be used. In an installed package the build inputs are absent: it is used. */
function freshBundle(root: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
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
  const cjs = new URL('main.cjs', dir);
  return statSync(cjs, { throwIfNoEntry: false }) ? cjs : new URL('main.js', dir);
}

type Entry = typeof import('./entry.js', { with: { 'resolution-mode': 'import' }});
type Bundle = Entry & { commands: import('./entry.js', { with: { 'resolution-mode': 'import' }}).CommandModules };

async function start(root: URL, argv: string[] = process.argv.slice(2)): Promise<void> {
  const bundle = freshBundle(root);
  if (bundle) {
    const b = bundle.pathname.endsWith('.cjs')
      ? (new ChunkLoader(url.fileURLToPath(bundle)).load('./main.cjs') as Bundle)
      : ((await import(bundle.href)) as Bundle);
    return b.main(root, argv, b.commands);
  }
  const { main } = (await import('./entry.js')) as Entry;
  return main(root, argv);
}

/**
 * Where compiled code is kept: in the temporary folder (as node's own compile cache), never in the
 * user's files; per user, per node version (V8 refuses a cache from another one). The folder must
 * be the user's own and writable by nobody else (code from it runs): otherwise there is no cache.
 */
function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.STRATUM_CODE_CACHE === '0') return undefined;
  const uid = process.getuid?.();
  const base = join(os.tmpdir(), `stratumiops-code-cache${uid === undefined ? '' : `-${uid}`}`);
  try {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(base);
    if (!st.isDirectory() || (uid !== undefined && (st.uid !== uid || (st.mode & 0o022) !== 0))) return undefined;
  } catch {
    return undefined;
  }
  return join(base, `${process.version}-${process.arch}`);
}

/** A short, stable name for a bundle folder (FNV-1a): one cache folder per installed bundle. */
function folderKey(path: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}

/** The file in a bundle's cache folder that names the bundle's folder. */
const BUNDLE_DIR = 'bundle-dir';

/** How chunks name each other (scripts/build-bundles.mjs). */
const SIBLING = /^\.\/(chunk-[A-Z0-9]+|main)\.cjs$/;

/** What `import()` of a builtin gives: its exports, and the module itself as `default`. */
function namespace(mod: object): object {
  return Object.create(mod, { default: { value: mod, enumerable: true } });
}

interface Chunk {
  exports: unknown;
}

/**
 * Loads the bundle's CommonJS chunks (all in one folder, requiring each other as './chunk-….cjs')
 * with node's module semantics: each evaluated once, in the order required, a throw leaves it
 * unloaded. Anything else is required as usual from the bundle's folder. The code cache of a
 * chunk is written at exit, after the run compiled the functions it needed, when there was none.
 */
class ChunkLoader {
  private readonly dir: string;
  private readonly chunks = new Map<string, Chunk>();
  private readonly nodeRequire: NodeJS.Require;
  private readonly require: NodeJS.Require;
  private readonly cache: string | undefined;
  private readonly unsaved: { script: vm.Script; file: string }[] = [];
  private readonly import = (specifier: unknown, options?: unknown) => this.dynamicImport(specifier, options);

  constructor(main: string, env: NodeJS.ProcessEnv = process.env) {
    this.dir = dirname(main);
    this.nodeRequire = nodeModule.createRequire(main);
    const own = (id: string) => (SIBLING.test(id) ? this.load(id) : this.nodeRequire(id));
    this.require = Object.assign(own, this.nodeRequire) as NodeJS.Require;
    // ES module chunks of the bundle (top-level await) take the other chunks from here.
    const g = globalThis as { __stratumChunkLoaders?: Map<string, ChunkLoader> };
    g.__stratumChunkLoaders ??= new Map();
    g.__stratumChunkLoaders.set(this.dir, this);
    const base = cacheDir(env);
    this.cache = base && join(base, folderKey(this.dir));
  }

  load(id: string): unknown {
    const name = id.slice(2);
    const done = this.chunks.get(name);
    if (done) return done.exports;
    const file = join(this.dir, name);
    // esbuild writes ASCII: read as such, V8 then keeps the source one byte a character.
    const bytes = readFileSync(file);
    const source = buffer.isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
    // The file's size and mtime name its cache: a rebuilt chunk never meets an old cache.
    const st = statSync(file);
    const cacheFile = this.cache && join(this.cache, `${name}.${st.size}.${Math.trunc(st.mtimeMs)}`);
    let cachedData: Buffer | undefined;
    if (cacheFile) {
      try {
        cachedData = readFileSync(cacheFile);
      } catch {}
    }
    const script = new vm.Script(
      `(function (exports, require, module, __filename, __dirname, __import) {${source}\n})`,
      {
        filename: file,
        ...(cachedData ? { cachedData } : {}),
      },
    );
    if (cacheFile && (!cachedData || script.cachedDataRejected)) {
      if (this.unsaved.length === 0) process.once('exit', () => this.save());
      this.unsaved.push({ script, file: cacheFile });
    }
    const fn = script.runInThisContext() as (...a: unknown[]) => void;
    const chunk: Chunk = { exports: {} };
    this.chunks.set(name, chunk);
    try {
      fn.call(chunk.exports, chunk.exports, this.require, chunk, file, this.dir, this.import);
    } catch (err) {
      this.chunks.delete(name);
      throw err;
    }
    return chunk.exports;
  }

  /**
   * A chunk's `import()`: a sibling chunk or a node builtin is required (node's ES module loader
   * is not started for them), anything else is imported from the bundle's folder (esm-import.mjs).
   */
  dynamicImport(specifier: unknown, options?: unknown): Promise<unknown> {
    if (typeof specifier === 'string') {
      const sibling = /^\.\/(.+)\.js$/.exec(specifier);
      const cjs = `./${sibling?.[1]}.cjs`;
      // An ES module chunk (an island: top-level await) is imported below.
      if (sibling && SIBLING.test(cjs) && statSync(join(this.dir, cjs), { throwIfNoEntry: false }))
        return Promise.resolve().then(() => this.load(cjs));
      if (nodeModule.isBuiltin(specifier)) return Promise.resolve().then(() => namespace(this.nodeRequire(specifier)));
    }
    const esm = url.pathToFileURL(join(this.dir, 'esm-import.mjs')).href;
    return import(esm).then((m: { default: (s: unknown, o?: unknown) => Promise<unknown> }) =>
      m.default(specifier, options),
    );
  }

  /** Writes the new caches (atomically) and drops those of chunks this bundle no longer has. */
  private save(): void {
    const dir = this.cache;
    if (!dir) return;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const keep = new Set(this.unsaved.map((u) => u.file));
      for (const { script, file } of this.unsaved) {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, file);
      }
      // The folder names its bundle, so that a later save can drop the folders of bundles gone since
      // (a removed npx copy or checkout): nothing else would ever remove them. Written whole (rename), so
      // that a concurrent save never reads it half written.
      const named = join(dir, `${BUNDLE_DIR}.${process.pid}.tmp`);
      writeFileSync(named, this.dir, { mode: 0o600 });
      renameSync(named, join(dir, BUNDLE_DIR));
      for (const f of readdirSync(dir)) {
        if (f === BUNDLE_DIR || keep.has(join(dir, f))) continue;
        const m = /^(.+)\.(\d+)\.(\d+)$/.exec(f);
        const st = m && statSync(join(this.dir, m[1] as string), { throwIfNoEntry: false });
        const current = st && `${st.size}.${Math.trunc(st.mtimeMs)}` === `${m[2]}.${m[3]}`;
        if (!current) rmSync(join(dir, f), { force: true });
      }
      // Only folders unused for a day: another machine sharing this temporary folder (a container) sees
      // other paths, and must not lose its caches on every run.
      const all = dirname(dir);
      const stale = Date.now() - 24 * 3600_000;
      for (const other of readdirSync(all)) {
        const folder = join(all, other);
        let bundle: string;
        try {
          if (folder === dir || statSync(folder).mtimeMs > stale) continue;
          bundle = readFileSync(join(folder, BUNDLE_DIR), 'utf8');
        } catch {
          continue;
        }
        if (path.isAbsolute(bundle) && !statSync(bundle, { throwIfNoEntry: false }))
          rmSync(folder, { recursive: true, force: true });
      }
    } catch {
      // A cache that cannot be written only costs the next run the compile.
    }
  }
}

export = { freshBundle, start };
