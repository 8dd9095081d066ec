import { basename, join, relative, resolve } from 'node:path';
import { validationError } from '@stratumiops/shared/errors';
import { processAlive } from '@stratumiops/shared/fs';
import type { NoteFiles } from './files.js';
import { slugify } from './ids.js';
import { FrontmatterError, isProblem, serializeNode, tryParseNode } from './markdown.js';
import { type KNode, NODE_TYPES, type NodeType, type Problem, typeDir } from './model.js';
import { foreignNode, type Source, sourceFiles, within } from './sources.js';
import { checkText } from './text-check.js';

export interface StoredNode {
  node: KNode;
  /** Absolute path of the node's file. */
  path: string;
}

export interface FileEntry {
  path: string;
  type: NodeType;
  mtimeMs: number;
  size: number;
}

/** Default refusal size for one node file: markdown notes are small, 10 MB is not a note. */
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/**
 * The markdown store: one file a node under `<graph>/<type>s/`, written atomically; the
 * files are the truth. A file that cannot be read as a node is reported as a Problem and
 * never written over. Every file access goes through `files` (the local disk: adapters/local-files.ts).
 */
export class Store {
  readonly maxBytes: number;
  /** Watched folders: indexed in place, never written. */
  readonly sources: Source[];
  readonly files: NoteFiles;

  constructor(
    /** The graph folder (`.kogral/`). */
    readonly dir: string,
    opts: { files: NoteFiles; maxBytes?: number; sources?: Source[]; followSymlinks?: boolean },
  ) {
    this.files = opts.files;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.sources = opts.sources ?? [];
    this.followSymlinks = opts.followSymlinks ?? false;
  }

  /** Whether node files that are symlinks to places outside the graph folder are read (off by default). */
  readonly followSymlinks: boolean;
  private realDir?: string;

  /** Why a node file is not read: a symlink leaving the graph folder (undefined: fine). Checked only for files being read. */
  private escapes(path: string): string | undefined {
    if (this.followSymlinks) return undefined;
    let isLink: boolean | undefined;
    try {
      isLink = this.files.stat(path, false)?.isSymbolicLink;
    } catch {
      return undefined;
    }
    if (!isLink) return undefined;
    let real: string;
    try {
      real = this.files.realpath(path);
      this.realDir ??= this.files.realpath(this.dir);
    } catch (e) {
      return `a broken symlink (${(e as Error).message})`;
    }
    return within(this.realDir, real)
      ? undefined
      : `a symlink to ${real}, outside the graph folder: not read (to allow: symlinks = "follow" in .kogral/config.toml, then kogral reindex)`;
  }

  /** The watched folder a file is in, if any. */
  sourceOf(path: string): Source | undefined {
    const p = resolve(path);
    return this.sources.find((s) => within(s.dir, p));
  }

  get lockPath(): string {
    return join(this.dir, '.lock');
  }

  /** Serialises writers across processes (CLI, MCP server). Not reentrant. */
  lock<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.files.lock(this.lockPath, fn);
  }

  fileFor(type: NodeType, id: string): string {
    return join(this.dir, typeDir(type), `${id}.md`);
  }

  /** Node files, without stat. Dot files (temporary files of atomic writes) are skipped. */
  listPaths(): { path: string; type: NodeType }[] {
    const out: { path: string; type: NodeType }[] = [];
    this.eachFile((path, type) => out.push({ path, type }));
    return out;
  }

  /** Node files with their mtime and size (for the index's incremental update, on every search). */
  listFiles(): FileEntry[] {
    const out: FileEntry[] = [];
    this.eachFile((path, type) => {
      const st = this.files.stat(path);
      if (st?.isFile) out.push({ path, type, mtimeMs: st.mtimeMs, size: st.size });
    });
    return out;
  }

  private eachFile(fn: (path: string, type: NodeType) => void): void {
    for (const type of NODE_TYPES) {
      const d = join(this.dir, typeDir(type));
      const names = this.files.list(d);
      if (!names) continue;
      // Concatenation, not path.join: the folder is already normal, and this runs for every file.
      for (const name of names) if (name.endsWith('.md') && !name.startsWith('.')) fn(`${d}/${name}`, type);
    }
    for (const src of this.sources) for (const path of sourceFiles(this.files, src)) fn(path, src.type);
  }

  /** Reads one node file. */
  read(path: string, type: NodeType): KNode | Problem {
    let buf: Buffer;
    try {
      buf = this.files.read(path);
    } catch (e) {
      return { path, message: `cannot read: ${(e as Error).message}` };
    }
    return this.parse(buf, path, type);
  }

  parse(buf: Buffer, path: string, type: NodeType): KNode | Problem {
    const check = checkText(buf, this.maxBytes);
    if (check.error) return { path, ...check.error };
    const src = this.sources.length > 0 ? this.sourceOf(path) : undefined;
    if (!src) {
      const why = this.escapes(path);
      if (why) return { path, message: why };
    }
    if (src) {
      try {
        const mtime = this.files.stat(path)?.mtimeMs ?? 0;
        return foreignNode((check.text as string).replace(/\r\n/g, '\n'), path, src, mtime);
      } catch (e) {
        if (e instanceof FrontmatterError) return { path, message: e.message, ...(e.line ? { line: e.line } : {}) };
        return { path, message: (e as Error).message };
      }
    }
    return tryParseNode(check.text as string, {
      path,
      fallbackType: type,
      fallbackId: () => slugify(basename(path, '.md'), 80),
    });
  }

  /** Every node, and every file that is not a valid node. */
  loadAll(): { nodes: StoredNode[]; problems: Problem[] } {
    const nodes: StoredNode[] = [];
    const problems: Problem[] = [];
    const seen = new Map<string, string>();
    // In path order, so that of two files with one id the same one wins everywhere (the index agrees).
    for (const f of this.listPaths().sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      const r = this.read(f.path, f.type);
      if (isProblem(r)) problems.push(r);
      else if (seen.has(r.id))
        problems.push({ path: f.path, message: `duplicate id '${r.id}' (also in ${seen.get(r.id)})` });
      else {
        seen.set(r.id, f.path);
        nodes.push({ node: r, path: f.path });
      }
    }
    return { nodes, problems };
  }

  /** Finds a node by id through its file name (fast), without loading the graph. */
  getById(id: string): StoredNode | Problem | undefined {
    for (const type of NODE_TYPES) {
      const path = this.fileFor(type, id);
      if (!this.files.exists(path)) continue;
      const r = this.read(path, type);
      return isProblem(r) ? r : { node: r, path };
    }
    return undefined;
  }

  /**
   * The node's file text, refused (nothing written) when it is over the limit every read applies:
   * the one size check of every write, so that no command writes a node that list would refuse.
   */
  serialize(node: KNode): string {
    const text = serializeNode(node);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.maxBytes)
      throw validationError(
        `the node would be ${(bytes / 1048576).toFixed(1)} MB, over the ${(this.maxBytes / 1048576).toFixed(1)} MB limit: nothing written`,
        { hint: 'split it into several nodes, or raise import.max_bytes' },
      );
    return text;
  }

  /** Writes a node atomically; `path` keeps a hand-named file where it is. */
  write(node: KNode, path?: string): string {
    const target = path ?? this.fileFor(node.type, node.id);
    if (this.isForeign(target))
      throw validationError(`${target} is not in the graph folder: kogral does not write it`, {
        hint: 'files in watched folders are read-only; edit them directly',
      });
    const text = this.serialize(node);
    this.files.mkdir(join(this.dir, typeDir(node.type)));
    this.files.write(target, text);
    return target;
  }

  /** Removes temporary files left by writers that died mid-write (their process is gone). */
  sweepTemporary(): string[] {
    const removed: string[] = [];
    for (const type of NODE_TYPES) {
      const d = join(this.dir, typeDir(type));
      let names: string[] = [];
      try {
        names = this.files.list(d) ?? [];
      } catch {}
      for (const name of names) {
        const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
        if (!m || processAlive(Number(m[1]))) continue;
        try {
          this.files.remove(join(d, name));
          removed.push(join(d, name));
        } catch {}
      }
    }
    return removed;
  }

  exists(path: string): boolean {
    return this.files.exists(path);
  }

  /** Whether a file is outside the graph's own folders (a watched source folder): never written. */
  isForeign(path: string): boolean {
    const p = resolve(path);
    return !within(resolve(this.dir), p) || this.sourceOf(p) !== undefined;
  }

  remove(path: string): void {
    if (this.isForeign(path)) throw validationError(`${path} is not in the graph folder: kogral does not delete it`);
    this.files.remove(path);
  }

  rel(path: string): string {
    return relative(this.dir, path);
  }
}
