import { existsSync, type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import { NODE_TYPES, typeDir } from '../core/model.js';

/**
 * Watches a graph's type folders (inotify on Linux: one watch per folder) and collects the
 * files that changed, so that a long-running process (`kogral serve`) updates its index in
 * O(changes) instead of stat-ing every file before each search. When the watcher cannot be
 * trusted (an error, a folder appearing), `takeDirty` says so and the caller does a full scan.
 */
export class GraphWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private dirty = new Set<string>();
  private needFull = true;

  constructor(
    private readonly dir: string,
    /** Watched folders (absolute): watched recursively. */
    sources: string[] = [],
  ) {
    this.watchFolder(dir, true);
    for (const t of NODE_TYPES) this.watchFolder(join(dir, typeDir(t)), false);
    for (const s of sources) this.watchTree(s);
  }

  /** A watched folder and everything under it (recursive fs.watch: inotify per folder on Linux). */
  private watchTree(path: string): void {
    this.track(path, () =>
      watch(path, { persistent: false, recursive: true }, (_event, name) => {
        const file = name ? String(name) : '';
        if (/\.(md|markdown)$/i.test(file) && !file.split('/').some((p) => p.startsWith('.')))
          this.dirty.add(join(path, file));
        // A folder renamed or removed, or an event without a name: only a full scan is safe.
        else if (!file?.split('/').pop()?.startsWith('.')) this.needFull = true;
      }),
    );
  }

  /** Starts a watcher on `path` unless one runs or the folder is missing; when it fails, a full scan is due. */
  private track(path: string, start: () => FSWatcher): void {
    if (this.watchers.has(path) || !existsSync(path)) return;
    try {
      const w = start();
      w.on('error', () => {
        this.needFull = true;
        this.watchers.delete(path);
        w.close();
      });
      this.watchers.set(path, w);
    } catch {
      this.needFull = true;
    }
  }

  private watchFolder(path: string, isRoot: boolean): void {
    this.track(path, () =>
      watch(path, { persistent: false }, (_event, name) => {
        if (!name) {
          this.needFull = true;
          return;
        }
        const file = String(name);
        if (isRoot) {
          // A type folder created after we started: watch it and rescan once.
          if (NODE_TYPES.some((t) => typeDir(t) === file)) {
            this.watchFolder(join(this.dir, file), false);
            this.needFull = true;
          }
          return;
        }
        if (file.endsWith('.md') && !file.startsWith('.')) this.dirty.add(join(path, file));
      }),
    );
  }

  /** The files changed since the last call, or `full` when only a full scan is safe. */
  takeDirty(): { full: true } | { full: false; paths: string[] } {
    for (const t of NODE_TYPES) this.watchFolder(join(this.dir, typeDir(t)), false);
    if (this.needFull) {
      this.needFull = false;
      this.dirty.clear();
      return { full: true };
    }
    const paths = [...this.dirty];
    this.dirty = new Set();
    return { full: false, paths };
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
