/**
 * The composition root shared by the CLI commands and the MCP server: finds the graph, wires
 * the core to its adapters (SQLite index, git, embedders), loading each heavy module (better-sqlite3,
 * simple-git, an embedder) only when it is first needed so that `kogral --help` and simple commands
 * stay fast.
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { daemonPaths, ensureDaemon, socketRequest } from '@stratumiops/shared/daemon';
import { notFoundError } from '@stratumiops/shared/errors';
import pkg from '../package.json' with { type: 'json' };
import { localFiles } from './adapters/local-files.js';
import type { SqliteIndex } from './adapters/sqlite-index.js';
import { GraphWatcher } from './adapters/watch.js';
import { graphLookup, IndexedLookup, type NodeLookup } from './core/catalog.js';
import type { Graph } from './core/graph.js';
import { Kogral } from './core/kogral.js';
import type { Embedder } from './core/search/embedder.js';
import { SearchEngine } from './core/search/engine.js';
import type { Source } from './core/sources.js';
import { Store, type StoredNode } from './core/store.js';
import { type KogralConfig, tool } from './tool.js';

/** `dir` as configured (a `.kogral` folder, or a folder holding one), else `.kogral/` found upwards. */
export function findGraphDir(config: Pick<KogralConfig, 'dir'>, cwd: string): string | undefined {
  if (config.dir) {
    const d = resolve(cwd, config.dir);
    if (existsSync(join(d, '.kogral')) && !existsSync(join(d, 'config.toml'))) return join(d, '.kogral');
    return d;
  }
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, '.kogral');
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const isGitUrl = (s: string) =>
  /^(https?|ssh|git|file):\/\//.test(s) || /^[\w.-]+@[\w.-]+:/.test(s) || /\.git$/.test(s);

export interface AppOptions {
  config: KogralConfig;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  warn?: (message: string) => void;
  /** Debug lines (e.g. what an index refresh did and how long it took). */
  debug?: (fields: Record<string, unknown>, message: string) => void;
}

export class App {
  readonly dir: string;
  readonly store: Store;
  readonly kg: Kogral;
  readonly config: KogralConfig;
  private readonly env: NodeJS.ProcessEnv;
  private readonly warn: (m: string) => void;
  private readonly debug: (fields: Record<string, unknown>, message: string) => void;
  private idx?: SqliteIndex;
  private embedder?: Embedder;

  constructor(dir: string, opts: AppOptions) {
    this.dir = dir;
    this.config = opts.config;
    this.env = opts.env ?? process.env;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`kogral: warning: ${m}\n`));
    this.debug = opts.debug ?? (() => {});
    this.store = new Store(dir, {
      files: localFiles,
      maxBytes: opts.config.import.max_bytes,
      sources: this.resolveSources(),
      followSymlinks: opts.config.symlinks === 'follow',
    });
    const author = opts.config.author || this.env.GIT_AUTHOR_NAME || this.env.USER || undefined;
    this.kg = new Kogral(this.store, {
      ...(author ? { author } : {}),
      onWrite: (written, removed) => {
        // The index is a cache: if it cannot be updated now, the next search's refresh catches up.
        try {
          this.idx?.update(written, removed);
        } catch (e) {
          this.warn(`search index not updated (${(e as Error).message}); the next search refreshes it`);
        }
      },
    });
  }

  /** The configured watched folders that exist, as absolute real paths (a missing one is a warning). */
  private resolveSources(): Source[] {
    const out: Source[] = [];
    for (const s of this.config.sources ?? []) {
      const abs = resolve(this.projectRoot, s.path);
      let real: string;
      try {
        real = realpathSync(abs);
      } catch {
        this.warn(`watched folder ${abs} does not exist: skipped (kogral watch remove ${s.path})`);
        continue;
      }
      out.push({ dir: real, type: s.type, name: s.name || basename(real) });
    }
    return out;
  }

  /** The graph for this working directory; exit 4 with a hint when there is none. */
  static open(opts: AppOptions): App {
    const cwd = opts.cwd ?? process.cwd();
    const dir = findGraphDir(opts.config, cwd);
    if (!dir || !existsSync(dir))
      throw notFoundError(`no kogral graph here (${dir ?? `.kogral/ in ${cwd} or above`})`, {
        hint: "run 'kogral init' to create one, or set KOGRAL_DIR",
      });
    return new App(dir, opts);
  }

  /** Installs the git committer when git.auto_commit is on (simple-git is loaded only then). */
  async withGit(): Promise<this> {
    if (this.config.git.auto_commit && !this.kg.opts.committer) {
      const { GitCommitter } = await import('./adapters/git.js');
      this.kg.opts.committer = new GitCommitter(this.dir, this.kg.opts.author, this.warn);
    }
    return this;
  }

  get projectRoot(): string {
    return basename(this.dir) === '.kogral' ? dirname(this.dir) : this.dir;
  }

  get name(): string {
    return this.config.name || basename(this.projectRoot);
  }

  /**
   * The search index, brought up to date with the files (loads better-sqlite3): every file is
   * stat-ed, or, while watching (`serve`), only the files the watcher saw change.
   */
  async index(refresh = true): Promise<SqliteIndex> {
    if (!this.idx) {
      const { SqliteIndex } = await import('./adapters/sqlite-index.js');
      this.idx = new SqliteIndex(this.store);
    }
    if (!refresh) return this.idx;
    if (this.watcher) {
      await new Promise((r) => setImmediate(r)); // let pending file events arrive
      const d = this.watcher.takeDirty();
      if (d.full) this.idx.refresh();
      else if (d.paths.length > 0) this.idx.update(d.paths, []);
    } else if (!(await this.vouchedByDaemon())) {
      const cpu = process.cpuUsage();
      const { problems, ...s } = this.idx.refresh();
      const used = process.cpuUsage(cpu);
      const round = (ms: number) => Math.round(ms * 10) / 10;
      this.debug(
        { ...s, problems: problems.length, ms: round(s.ms), cpu_ms: round((used.user + used.system) / 1000) },
        'index refreshed',
      );
    }
    return this.idx;
  }

  /**
   * Whether the kogral daemon, which watches this graph, brought its index up to date (so this
   * process need not stat every file). False whenever it cannot say: not running (and not to be
   * started), another version, an error, no answer in time; the caller then checks the files itself.
   */
  private async vouchedByDaemon(): Promise<boolean> {
    const mode = this.config.daemon ?? 'use';
    if (mode === 'off') return false;
    const { socket } = daemonPaths('kogral', this.env);
    if (!existsSync(socket)) {
      if (mode !== 'start') return false;
      try {
        await ensureDaemon({ tool: 'kogral', entry: tool.daemonEntry, env: this.env });
      } catch (e) {
        this.warn(`could not start the kogral daemon (${(e as Error).message}); checking the files instead`);
        return false;
      }
    }
    const t0 = performance.now();
    try {
      const res = await socketRequest(
        socket,
        'POST',
        '/index/vouch',
        {
          version: pkg.version,
          dir: this.dir,
          maxBytes: this.store.maxBytes,
          followSymlinks: this.store.followSymlinks,
          sources: this.store.sources,
        },
        15_000,
      );
      const body = res.body as { vouched?: boolean; full?: boolean; updated?: number };
      if (res.status !== 200 || body.vouched !== true) {
        this.debug({ status: res.status, body }, 'the daemon did not vouch for the index');
        return false;
      }
      this.debug(
        { full: body.full, updated: body.updated, ms: Math.round((performance.now() - t0) * 10) / 10 },
        'index vouched by the daemon',
      );
      return true;
    } catch (e) {
      this.debug({ error: (e as Error).message }, 'the daemon did not answer');
      return false;
    }
  }

  /**
   * Lookups for list, show and get: from the index, brought up to date first (a stat per file,
   * a read per changed file); from the files when the index cannot be opened.
   */
  async lookup(): Promise<NodeLookup> {
    let index: SqliteIndex;
    try {
      index = await this.index();
    } catch (e) {
      this.warn(`search index unavailable (${(e as Error).message}); reading every file instead`);
      return graphLookup(this.kg.graph());
    }
    return new IndexedLookup(this.store, index);
  }

  private watcher?: GraphWatcher;

  /** For long-running processes: watch the graph so that each search updates the index in O(changes). */
  async watch(): Promise<void> {
    if (this.watcher) return;
    this.watcher = new GraphWatcher(
      this.dir,
      this.store.sources.map((s) => s.dir),
    );
  }

  async engine(semantic: boolean): Promise<SearchEngine> {
    const index = await this.index();
    if (!semantic) return new SearchEngine(index);
    return new SearchEngine(index, await this.getEmbedder());
  }

  private async getEmbedder(): Promise<Embedder> {
    if (!this.embedder) {
      const { createEmbedder } = await import('./adapters/embedders.js');
      this.embedder = await createEmbedder(this.config.search, this.env);
    }
    return this.embedder;
  }

  /** Computes (and caches in the index) the vectors of every node, so that --semantic starts fast. */
  async embedAll(): Promise<{ model: string; vectors: number }> {
    const index = await this.index(false);
    const e = await this.getEmbedder();
    const r = await index.vectors(e.name, e.dimensions, (t) => e.embedBatch(t), {});
    return { model: e.name, vectors: r.vectors.length };
  }

  private graphCache?: { stamp: string; graph: Graph };

  /**
   * The whole graph for read-only use by a long-running server: loaded again only when the
   * files changed (the index refresh notices, in this process or another one).
   */
  async currentGraph(): Promise<Graph> {
    const index = await this.index();
    const stamp = index.stamp();
    if (this.graphCache?.stamp === stamp) return this.graphCache.graph;
    const graph = this.kg.graph();
    this.graphCache = { stamp: index.stamp(), graph };
    return graph;
  }

  /** The org graph's folder, cloned or refreshed first when it is a git URL; undefined when none is set. */
  async orgDir(refresh = false): Promise<{ dir: string; url?: string } | undefined> {
    const org = this.config.org;
    if (!org) return undefined;
    if (isGitUrl(org)) {
      const { syncClone } = await import('./adapters/git.js');
      const cache = join(
        this.env.XDG_CACHE_HOME || join(this.env.HOME || homedir(), '.cache'),
        'stratumiops',
        'kogral',
        'org',
        createHash('sha256').update(org).digest('hex').slice(0, 16),
      );
      await syncClone(org, cache, refresh, this.warn);
      return { dir: existsSync(join(cache, '.kogral')) ? join(cache, '.kogral') : cache, url: org };
    }
    const p = isAbsolute(org) ? org : resolve(this.projectRoot, org);
    if (!existsSync(p))
      throw notFoundError(`the org graph ${p} does not exist`, { hint: 'check org in .kogral/config.toml' });
    return { dir: existsSync(join(p, '.kogral')) ? join(p, '.kogral') : p };
  }

  async orgNodes(refresh = false): Promise<{ dir: string; url?: string; nodes: StoredNode[] } | undefined> {
    const o = await this.orgDir(refresh);
    if (!o) return undefined;
    const { nodes, problems } = new Store(o.dir, { files: localFiles }).loadAll();
    for (const p of problems) this.warn(`org graph: ${p.path}${p.line ? `:${p.line}` : ''}: ${p.message}`);
    return { ...o, nodes };
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.idx?.close();
    this.idx = undefined;
  }
}
