import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile as writeFileCb } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { assertValidKey, KeyedMutex, type Storage, type StorageOp } from '../core/storage.js';

export interface FilesystemOptions {
  /** Make a journal file roll over (and the tree be synced) past this size (default 32 MiB). */
  checkpointBytes?: number;
  /** ... or this long after the first write since the last checkpoint (default 10 s). */
  checkpointMs?: number;
}

const JOURNAL_RE = /^journal-(\d{12})\.log$/;
const PUT = 1;
const DEL = 2;
const CHECK_LEN = 8;
const LOCK_FILE = 'storage.lock';
const EMPTY = new Uint8Array(0);

/**
 * Storage in a directory, one file per key. A key `a/b/c` lives at `+a/+b/_c`: the different
 * prefixes for files and folders keep `a/b` (a value) and `a/b/c` (a value under it) apart, and
 * a leading '.' is reserved for temporary files, which listing never shows.
 *
 * Durability with a write-ahead journal and group commit: a write is appended to the journal
 * (`journal-N.log`), which is fsynced once for all the writes that arrived meanwhile, and is then
 * acknowledged. Its value is kept in memory (reads are served from there) and reaches its file
 * later, at the next checkpoint or listing: many writes of one key cost one file write, and file
 * I/O stays off the request path, where it would queue the journal's fsync behind it in libuv's
 * small thread pool. A checkpoint (once the journal is large or old enough) starts a new journal,
 * writes the pending values to their files, syncs the file system (`sync -f`, i.e. syncfs; else
 * each file and folder written is fsynced) and deletes the old journal. On open, the journals left
 * by a crash are replayed (records are whole values, so replaying is idempotent; a torn last record
 * was never acknowledged and is dropped). Concurrent writers of a key are serialized, so the
 * journal order is the order in memory and in the files.
 */
export class FilesystemStorage implements Storage {
  readonly type = 'file';
  private readonly root: string;
  private readonly locks = new KeyedMutex();
  private ready: Promise<void> | undefined;
  private journal: Journal | undefined;
  private readonly knownDirs = new Set<string>();
  private readonly checkpointBytes: number;
  private readonly checkpointMs: number;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Journaled values not yet in their files, by file (null: the file is to be removed). */
  private readonly pending = new Map<string, Uint8Array | null>();
  /** Writing pending values to files: one run at a time. */
  private applyRun: Promise<void> = Promise.resolve();
  /** Files and folders changed since the last sync. */
  private unsynced = new Set<string>();
  private syncfs = true;
  /** A journaled write could not reach its file: the journals are kept and writes refused. */
  private applyError: Error | undefined;

  constructor(root: string, opts: FilesystemOptions = {}) {
    this.root = resolve(root);
    this.checkpointBytes = opts.checkpointBytes ?? 32 * 1024 * 1024;
    this.checkpointMs = opts.checkpointMs ?? 10_000;
  }

  private filePath(key: string): string {
    assertValidKey(key);
    // Valid keys have no '', '.', '..' segments, no '\\' or NUL, and the segments get a '+' or
    // '_' prefix: a plain concatenation cannot leave the root (and is much cheaper than join).
    let p = this.root;
    let start = 0;
    for (;;) {
      const slash = key.indexOf('/', start);
      const seg = slash < 0 ? key.slice(start) : key.slice(start, slash);
      if (seg.length > 66 && Buffer.byteLength(seg) > 200) throw new Error('storage key segment too long');
      if (slash < 0) return `${p}${sep}_${seg}`;
      p += `${sep}+${seg}`;
      start = slash + 1;
    }
  }

  private dirPath(prefix: string): string {
    assertValidKey(prefix, { prefix: true });
    const segs = prefix === '' ? [] : prefix.replace(/\/$/, '').split('/');
    return join(this.root, ...segs.map((s) => `+${s}`));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.filePath(key);
    await this.open();
    const value = this.pending.get(file);
    if (value !== undefined) return value ?? undefined;
    try {
      return new Uint8Array(await readFile(file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.batch([{ op: 'put', key, value }]);
  }

  async delete(key: string): Promise<void> {
    await this.batch([{ op: 'delete', key }]);
  }

  /** One journal append (one fsync shared with concurrent batches) for all the operations. */
  async batch(ops: StorageOp[]): Promise<void> {
    const targets = ops.map((o) => this.filePath(o.key));
    await this.open();
    await this.locks.runAll(
      ops.map((o) => o.key),
      async () => {
        const record = Buffer.concat(
          ops.map((o) => encodeRecord(o.op === 'put' ? PUT : DEL, o.key, o.op === 'put' ? o.value : EMPTY)),
        );
        const j = await this.logged(record);
        for (let i = 0; i < ops.length; i++) {
          const o = ops[i] as StorageOp;
          this.pending.set(targets[i] as string, o.op === 'put' ? o.value : null);
        }
        j.settled();
      },
    );
  }

  async list(prefix: string): Promise<string[]> {
    const dir = this.dirPath(prefix);
    await this.open();
    // A listing shows every acknowledged write: bring the files up to date first.
    if (this.pending.size > 0) await this.apply();
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: string[] = [];
    for (const ent of entries) {
      if (ent.name.startsWith('_') && ent.isFile()) out.push(ent.name.slice(1));
      else if (ent.name.startsWith('+') && ent.isDirectory()) out.push(`${ent.name.slice(1)}/`);
    }
    return out.sort();
  }

  /** Syncs everything and removes the journal: a clean shutdown leaves only the tree. */
  async close(): Promise<void> {
    if (this.closed || !this.ready) return;
    await this.ready;
    this.closed = true;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    await this.checkpointing;
    await this.checkpoint(true);
    await unlink(join(this.root, LOCK_FILE)).catch(() => {});
  }

  /** Resolves once every write acknowledged so far is in its file (tests look at the files). */
  async flush(): Promise<void> {
    await this.open();
    await this.apply();
  }

  private open(): Promise<void> {
    this.ready ??= this.recover();
    return this.ready;
  }

  /**
   * Appends a record and waits for the fsync that covers it; returns the journal it went to, on
   * which the caller calls `settled()` once the values are in `pending`.
   */
  private async logged(record: Buffer): Promise<Journal> {
    if (this.closed) throw new Error('storage is closed');
    if (this.applyError) {
      throw new Error(`storage failed (${this.applyError.message}); restart to recover from the journal`);
    }
    const j = this.journal as Journal;
    j.appending++;
    try {
      await j.append(record);
    } catch (e) {
      j.settled();
      throw e;
    }
    this.scheduleCheckpoint(j);
    return j;
  }

  private scheduleCheckpoint(j: Journal): void {
    if (j.size >= this.checkpointBytes) {
      this.startCheckpoint();
      return;
    }
    if (!this.checkpointTimer) {
      this.checkpointTimer = setTimeout(() => this.startCheckpoint(), this.checkpointMs);
      this.checkpointTimer.unref();
    }
  }

  private startCheckpoint(): void {
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.checkpointing = this.checkpointing.then(() => this.checkpoint(false)).catch(() => {});
  }

  /**
   * Starts a new journal; once the writes of the old one are in memory, writes them to their
   * files, syncs those, then deletes the old journal (which a crash before that point replays).
   */
  private async checkpoint(final: boolean): Promise<void> {
    const old = this.journal;
    if (!old) return;
    if (old.size === 0 && !final) return;
    this.journal = final ? undefined : await Journal.create(this.root, old.seq + 1);
    await old.drained();
    await old.close();
    await this.apply().catch(() => {});
    // After a failed write every journal stays, so that a replay rebuilds the state in order.
    if (this.applyError) return;
    const changed = this.unsynced;
    this.unsynced = new Set();
    if (old.size > 0) await this.syncTree([...changed]);
    await unlink(old.file);
    await fsyncPath(this.root);
  }

  /** Writes the pending values to their files (queued behind a run already going). */
  private apply(): Promise<void> {
    const run = this.applyRun.then(() => this.applyPending());
    this.applyRun = run.catch(() => {});
    return run;
  }

  private async applyPending(): Promise<void> {
    if (this.applyError) throw this.applyError;
    const work = [...this.pending];
    // A folder that gets a file in this run is not left empty by a removal in it.
    const written = new Set<string>();
    for (const [file, value] of work) if (value) written.add(dirname(file));
    const touch = (p: string) => this.unsynced.add(p);
    let next = 0;
    // Two at a time: the rest of libuv's four threads stay free for the journal and for reads.
    const worker = async () => {
      while (next < work.length) {
        const [file, value] = work[next++] as [string, Uint8Array | null];
        if (value) {
          await this.writeFile(file, value, touch);
          touch(file);
        } else await this.removeFile(file, touch, written);
        // A newer value that arrived meanwhile stays pending for the next run.
        if (this.pending.get(file) === value) this.pending.delete(file);
      }
    };
    try {
      await Promise.all([worker(), worker()]);
    } catch (e) {
      // The journal has it: reads keep the values from memory, journals are kept for a replay
      // at the next start, and writes are refused until then.
      this.applyError ??= e as Error;
      throw e;
    }
  }

  /** Makes everything written so far durable: one syncfs for the whole tree, else file by file. */
  private async syncTree(paths: string[]): Promise<void> {
    if (this.syncfs) {
      const ok = await new Promise<boolean>((res) => {
        execFile('sync', ['-f', this.root], { timeout: 120_000 }, (err) => res(!err));
      });
      if (ok) return;
      this.syncfs = false; // no coreutils `sync -f` here: fsync each file and folder instead
    }
    for (let i = 0; i < paths.length; i += 64) {
      await Promise.all(paths.slice(i, i + 64).map((p) => fsyncPath(p)));
    }
  }

  /**
   * One process per data directory: a second one would replay and delete the first one's journal.
   * The lock file names its process; a lock left by a process that is gone is taken over.
   */
  private async lock(): Promise<void> {
    const file = join(this.root, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(file, 'wx', 0o600);
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (pid === process.pid) throw new Error(`storage ${this.root} is already open in this process`);
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new Error(`storage ${this.root} is in use by process ${pid} (one server or daemon per data directory)`);
      }
      await unlink(file).catch(() => {});
    }
    throw new Error(`cannot lock storage ${this.root}`);
  }

  /** Replays the journals a crash left, syncs what they wrote, and starts a new journal. */
  private async recover(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await this.lock();
    const journals = (await readdir(this.root))
      .filter((n) => JOURNAL_RE.test(n))
      .sort()
      .map((n) => join(this.root, n));
    const touched = new Set<string>();
    const touch = (p: string) => touched.add(p);
    for (const file of journals) {
      for (const r of decodeRecords(await readFile(file))) {
        const target = this.filePath(r.key);
        if (r.op === PUT) {
          await this.writeFile(target, r.value, touch);
          touched.add(target);
        } else await this.removeFile(target, touch);
      }
    }
    if (touched.size > 0) await this.syncTree([...touched]).catch(() => {});
    for (const file of journals) await unlink(file);
    await removeStaleTemps(this.root).catch(() => {});
    const last = journals.at(-1);
    const seq = last ? Number(JOURNAL_RE.exec(last.slice(this.root.length + 1))?.[1] ?? 0) + 1 : 1;
    this.journal = await Journal.create(this.root, seq);
    await fsyncPath(this.root);
  }

  /**
   * Writes a file in place (readers get the value from memory meanwhile, and the journal holds it
   * should this be cut short). Not synced here; `touch` collects the folders whose entries
   * changed, for the checkpoint.
   */
  private async writeFile(target: string, value: Uint8Array, touch: (p: string) => void): Promise<void> {
    const dir = dirname(target);
    // A concurrent delete may remove an empty folder between mkdir and the write: retry.
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.knownDirs.has(dir)) {
          const created = await mkdir(dir, { recursive: true, mode: 0o700 });
          // Each new folder is an entry in its parent: from the first one created down, all changed.
          if (created) for (let d = dir; d.length >= created.length; d = dirname(d)) touch(dirname(d));
          if (this.knownDirs.size >= 100_000) this.knownDirs.clear();
          this.knownDirs.add(dir);
        }
        // The callback API: noticeably cheaper per call than fs/promises' FileHandle.
        await new Promise<void>((res, rej) => {
          writeFileCb(target, value, { mode: 0o600 }, (err) => (err ? rej(err) : res()));
        });
        touch(dir);
        return;
      } catch (e) {
        this.knownDirs.delete(dir);
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw e;
      }
    }
  }

  /** Removes a file and the folders it leaves empty; false when it did not exist. */
  private async removeFile(target: string, touch: (p: string) => void, keep?: ReadonlySet<string>): Promise<boolean> {
    try {
      await unlink(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    touch(dirname(target));
    // Remove folders left empty, up to the root; rmdir fails on a non-empty one, which ends it.
    // A folder the same batch writes into is not empty: no need to try.
    for (let d = dirname(target); d !== this.root && d.startsWith(this.root) && !keep?.has(d); d = dirname(d)) {
      try {
        await rmdir(d);
        this.knownDirs.delete(d);
        touch(dirname(d));
      } catch {
        break;
      }
    }
    return true;
  }
}

/** One journal file: appends batched behind a single fdatasync (group commit). */
class Journal {
  size = 0;
  /** Records appended whose values are not in memory yet. */
  appending = 0;
  private queue: { buf: Buffer; resolve: () => void; reject: (e: Error) => void }[] = [];
  private flushing = false;
  private idle: (() => void)[] = [];

  private constructor(
    readonly file: string,
    readonly seq: number,
    private readonly fh: FileHandle,
  ) {}

  static async create(root: string, seq: number): Promise<Journal> {
    const file = join(root, `journal-${String(seq).padStart(12, '0')}.log`);
    return new Journal(file, seq, await open(file, 'a', 0o600));
  }

  append(buf: Buffer): Promise<void> {
    this.size += buf.length;
    const done = new Promise<void>((resolve, reject) => this.queue.push({ buf, resolve, reject }));
    if (!this.flushing) void this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const data = batch.length === 1 ? (batch[0] as { buf: Buffer }).buf : Buffer.concat(batch.map((b) => b.buf));
        await this.fh.appendFile(data);
        await this.fh.datasync();
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e as Error);
      }
    }
    this.flushing = false;
  }

  /** An appended record's values are in memory (or its append failed). */
  settled(): void {
    this.appending--;
    if (this.appending === 0) for (const f of this.idle.splice(0)) f();
  }

  /** Resolves once every record appended here has its values in memory (or failed). */
  drained(): Promise<void> {
    if (this.appending === 0) return Promise.resolve();
    return new Promise((res) => this.idle.push(res));
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** [u32 length of the rest][u8 op][u16 key length][key][value][8 bytes of SHA-256 of all before]. */
function encodeRecord(op: number, key: string, value: Uint8Array): Buffer {
  const k = Buffer.from(key);
  const body = Buffer.alloc(4 + 1 + 2 + k.length + value.length);
  body.writeUInt32BE(body.length - 4 + CHECK_LEN, 0);
  body.writeUInt8(op, 4);
  body.writeUInt16BE(k.length, 5);
  k.copy(body, 7);
  body.set(value, 7 + k.length);
  const check = createHash('sha256').update(body).digest().subarray(0, CHECK_LEN);
  return Buffer.concat([body, check]);
}

/** The complete records of a journal; stops at the first torn or damaged one. */
function decodeRecords(buf: Buffer): { op: number; key: string; value: Uint8Array }[] {
  const out: { op: number; key: string; value: Uint8Array }[] = [];
  let o = 0;
  while (o + 4 <= buf.length) {
    const len = buf.readUInt32BE(o);
    const end = o + 4 + len;
    if (len < 3 + CHECK_LEN || end > buf.length) break;
    const body = buf.subarray(o, end - CHECK_LEN);
    const check = createHash('sha256').update(body).digest().subarray(0, CHECK_LEN);
    if (!check.equals(buf.subarray(end - CHECK_LEN, end))) break;
    const op = body.readUInt8(4);
    const klen = body.readUInt16BE(5);
    if (7 + klen > body.length || (op !== PUT && op !== DEL)) break;
    out.push({ op, key: body.subarray(7, 7 + klen).toString(), value: new Uint8Array(body.subarray(7 + klen)) });
    o = end;
  }
  return out;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncPath(p: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(p, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // deleted since: nothing to sync
    throw e;
  }
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Temporary files a crash left between writing and renaming. */
async function removeStaleTemps(root: string): Promise<void> {
  for (const ent of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (ent.isFile() && ent.name.startsWith('.tmp-')) {
      await unlink(join(ent.parentPath ?? (ent as { path?: string }).path ?? root, ent.name)).catch(() => {});
    }
  }
}
