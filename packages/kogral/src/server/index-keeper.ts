/**
 * The daemon's part in keeping CLI commands fast: it watches each graph a command asks about and,
 * when asked again, brings that graph's index up to date with only the files that changed (the
 * first time: one full check). A command that gets its answer skips stat-ing every file itself.
 */
import { statSync } from 'node:fs';
import * as z from '@stratumiops/shared/zod';
import { localFiles } from '../adapters/local-files.js';
import type { SqliteIndex } from '../adapters/sqlite-index.js';
import type { GraphWatcher } from '../adapters/watch.js';
import { NODE_TYPES } from '../core/model.js';
import { Store } from '../core/store.js';

/** What a command sends: its version and how it opens the graph's store (the same files, the same rules). */
export const vouchRequest = z.strictObject({
  version: z.string(),
  dir: z.string().startsWith('/'),
  maxBytes: z.number().int().positive(),
  followSymlinks: z.boolean(),
  sources: z.array(z.strictObject({ dir: z.string().startsWith('/'), type: z.enum(NODE_TYPES), name: z.string() })),
});
export type VouchRequest = z.infer<typeof vouchRequest>;

export interface VouchResult {
  vouched: true;
  /** Whether this answer needed a full check (first request for the graph, or the watcher lost track). */
  full: boolean;
  updated: number;
}

interface Kept {
  index: SqliteIndex;
  watcher: GraphWatcher;
  used: number;
  /** The index file's inode when opened: a deleted or replaced index.db is opened again, never vouched for. */
  ino: number;
}

/** Graphs watched at once; the least recently asked about is dropped beyond this. */
const MAX_GRAPHS = 16;

export class IndexKeeper {
  private readonly graphs = new Map<string, Kept>();

  constructor(private readonly version: string) {}

  /** Undefined when this daemon is another kogral version (its index may differ): the command checks itself. */
  async vouch(req: VouchRequest): Promise<VouchResult | undefined> {
    if (req.version !== this.version) return undefined;
    const key = JSON.stringify([req.dir, req.maxBytes, req.followSymlinks, req.sources]);
    // Loaded before the map is read: from here to the update below nothing else runs (no await).
    const [{ SqliteIndex }, { GraphWatcher }] = await Promise.all([
      import('../adapters/sqlite-index.js'),
      import('../adapters/watch.js'),
    ]);
    let k = this.graphs.get(key);
    if (k && statSync(k.index.file, { throwIfNoEntry: false })?.ino !== k.ino) {
      this.drop(key);
      k = undefined;
    }
    if (!k) {
      const store = new Store(req.dir, {
        files: localFiles,
        maxBytes: req.maxBytes,
        followSymlinks: req.followSymlinks,
        sources: req.sources,
      });
      // The watcher first, so that nothing changed during the first full check goes unseen.
      const watcher = new GraphWatcher(
        req.dir,
        req.sources.map((s) => s.dir),
      );
      const index = new SqliteIndex(store);
      k = { watcher, index, used: 0, ino: statSync(index.file).ino };
      this.graphs.set(key, k);
      this.evict();
    }
    k.used = Date.now();
    // File events the kernel already queued are delivered before this resolves.
    await new Promise((r) => setImmediate(r));
    // Taking the changes and indexing them is one synchronous step: a request arriving meanwhile
    // waits for it, so it never vouches for changes still being indexed.
    const d = k.watcher.takeDirty();
    if (d.full) {
      k.index.refresh();
      return { vouched: true, full: true, updated: 0 };
    }
    if (d.paths.length > 0) k.index.update(d.paths, []);
    return { vouched: true, full: false, updated: d.paths.length };
  }

  private evict(): void {
    while (this.graphs.size > MAX_GRAPHS) {
      const [oldest] = [...this.graphs.entries()].sort((a, b) => a[1].used - b[1].used);
      if (!oldest) return;
      this.drop(oldest[0]);
    }
  }

  private drop(key: string): void {
    const k = this.graphs.get(key);
    this.graphs.delete(key);
    k?.watcher.close();
    k?.index.close();
  }

  close(): void {
    for (const key of [...this.graphs.keys()]) this.drop(key);
  }
}
