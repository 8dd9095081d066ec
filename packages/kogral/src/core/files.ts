/**
 * The note store's file access: every read and write of the graph's own files (node files,
 * conflict files, templates, watched folders, exports) goes through this port, as
 * basic-memory's FileService does. adapters/local-files.ts implements it on the local disk;
 * the core never imports node:fs for these files. Errors keep node's codes (ENOENT, EEXIST...).
 */

export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  mtimeMs: number;
  size: number;
}

export interface DirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

export interface NoteFiles {
  /** The names in a folder; undefined when the folder does not exist (other errors are thrown). */
  list(dir: string): string[] | undefined;
  /** A folder's entries, symlinks not followed; throws when the folder cannot be read. */
  entries(dir: string): DirEntry[];
  /** undefined when nothing is there; `follow: false` describes a symlink itself. */
  stat(path: string, follow?: boolean): FileStat | undefined;
  realpath(path: string): string;
  exists(path: string): boolean;
  read(path: string): Buffer;
  /** Atomically: a reader sees the old file or the new one, never part of it. The folder must exist. */
  write(path: string, data: string | Buffer): void;
  /**
   * Many files at once (a sync bringing in a whole graph): nothing is put in place before every
   * file is written; on an error no target changed.
   */
  writeMany(files: { path: string; data: Buffer }[]): Promise<void>;
  /** Creates a folder and its parents (nothing happens when it exists). */
  mkdir(dir: string): void;
  remove(path: string): void;
  /** Runs `fn` holding the exclusive lock `path`, shared by every process working on the graph. */
  lock<T>(path: string, fn: () => Promise<T> | T): Promise<T>;
}
