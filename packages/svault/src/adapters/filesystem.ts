import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { tryLockFile } from '@stratumiops/shared/fs';
import { assertValidKey, KeyedMutex, type Storage, type StorageOp } from '../core/storage.js';

export interface FilesystemOptions {
  /** Make a journal file roll over (and the tree be synced) past this size (default 32 MiB). */
  checkpointBytes?: number;
  /** ... or this long after the first write since the last checkpoint (default 10 s). */
  checkpointMs?: number;
  /** Past this many values waiting in memory for their files, writers wait for them (default 50,000). */
  maxPending?: number;
  /** Where problems found while opening go (a damaged journal); they never include values. */
  onWarning?: (message: string) => void;
}

/** Another process holds the data directory (its lock file names a live process). */
export class StorageInUseError extends Error {
  override readonly name = 'StorageInUseError';
}

const JOURNAL_RE = /^journal-(\d{12})\.log$/;
const PUT = 1;
const DEL = 2;
const BATCH = 3;
/** Past this many bytes of values waiting for their files, writers wait for them to be written. */
const PENDING_BYTES = 64 * 1024 * 1024;
/** Files handed to the file writer per message. */
const CHUNK = 1024;
const LOCK_FILE = 'storage.lock';
/** Undefined where the platform has no O_DSYNC: the journal then calls fdatasync after each write. */
const DSYNC: number | undefined = constants.O_DSYNC;

/**
 * Storage in a directory, one file per key. A key `a/b/c` lives at `+a/+b/_c`: the different
 * prefixes for files and folders keep `a/b` (a value) and `a/b/c` (a value under it) apart.
 *
 * Durability with a write-ahead journal and group commit: a batch is appended to the journal
 * (`journal-N.log`) as one checksummed record, the journal is fsynced once for all the batches
 * that arrived meanwhile, and the batch is then acknowledged. Its values wait in memory (reads
 * are served from there) and reach their files later, at the next checkpoint or listing: many
 * writes of one key cost one file write, and a value written then deleted (KV's pruned
 * versions) never touches the disk. The files are written by a worker thread with plain
 * synchronous calls: on the main thread, or through libuv's four-thread pool, each file cost
 * several times more and queued the journal's fsync behind it.
 *
 * A checkpoint (once the journal is large or old enough) starts a new journal, writes the
 * waiting values to their files, syncs the file system (`sync -f`, i.e. syncfs; else each file
 * and folder written is fsynced) and deletes the old journal. On open, the journals left by a
 * crash are replayed: records are whole values, so replaying is idempotent, and a torn last
 * record was never acknowledged and is dropped whole. Concurrent writers of a key are
 * serialized, so the journal order is the order in memory and in the files.
 */
export class FilesystemStorage implements Storage {
  readonly type = 'file';
  private readonly root: string;
  private readonly locks = new KeyedMutex();
  private ready: Promise<void> | undefined;
  private journal: Journal | undefined;
  private readonly checkpointBytes: number;
  private readonly checkpointMs: number;
  private readonly maxPending: number;
  private readonly onWarning: (message: string) => void;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  private checkpointQueued = false;
  private closed = false;
  /** Journaled values not yet in their files, by file (null: the file is to be removed). */
  private readonly pending = new Map<string, Uint8Array | null>();
  private pendingBytes = 0;
  /** Writing pending values to files: one run at a time. */
  private applyRun: Promise<void> = Promise.resolve();
  /** A run that writers over the pending limit wait for. */
  private draining: Promise<void> | undefined;
  private writer: FileWriter | undefined;
  /** Files and folders changed since the last sync. */
  private unsynced = new Set<string>();
  private syncfs = true;
  /** A journaled write could not reach its file: the journals are kept and writes refused. */
  private applyError: Error | undefined;

  constructor(root: string, opts: FilesystemOptions = {}) {
    this.root = resolve(root);
    this.checkpointBytes = opts.checkpointBytes ?? 32 * 1024 * 1024;
    this.checkpointMs = opts.checkpointMs ?? 10_000;
    this.maxPending = opts.maxPending ?? 50_000;
    this.onWarning = opts.onWarning ?? ((m) => process.stderr.write(`svault storage: ${m}\n`));
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
      if (slash < 0) {
        // Past PATH_MAX the file system would refuse it (ENAMETOOLONG): say so without the path.
        if (p.length + seg.length > 4000) throw new Error('storage key too long for this data directory');
        return `${p}${sep}_${seg}`;
      }
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

  /** One journal record, all or nothing, behind one fsync shared with concurrent batches. */
  async batch(ops: StorageOp[]): Promise<void> {
    if (ops.length === 0) return;
    const targets = ops.map((o) => this.filePath(o.key));
    await this.open();
    if (this.pending.size >= this.maxPending || this.pendingBytes >= PENDING_BYTES) await this.drain();
    await this.locks.runAll(
      ops.map((o) => o.key),
      async () => {
        const j = await this.logged(encodeBatch(ops));
        for (let i = 0; i < ops.length; i++) {
          const o = ops[i] as StorageOp;
          this.setPending(targets[i] as string, o.op === 'put' ? o.value : null);
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
    try {
      await this.checkpoint(true);
    } finally {
      await this.writer?.close();
      await unlink(join(this.root, LOCK_FILE)).catch(() => {});
    }
  }

  /** Resolves once every write acknowledged so far is in its file (tests look at the files). */
  async flush(): Promise<void> {
    await this.open();
    await this.apply();
  }

  /**
   * Locks the directory and replays what a crash left; the first access does it too. Called at
   * server start, so that a directory held by another process is refused at once
   * (StorageInUseError) rather than on each request.
   */
  open(): Promise<void> {
    this.ready ??= this.recover();
    return this.ready;
  }

  private setPending(file: string, value: Uint8Array | null): void {
    const old = this.pending.get(file);
    if (old) this.pendingBytes -= old.length;
    if (value) this.pendingBytes += value.length;
    this.pending.set(file, value);
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

  /** Queues a checkpoint, unless one is queued already (it will cover this journal too). */
  private startCheckpoint(): void {
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.checkpointQueued) return;
    this.checkpointQueued = true;
    this.checkpointing = this.checkpointing
      .then(() => {
        this.checkpointQueued = false;
        return this.checkpoint(false);
      })
      .catch(() => {});
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
    if (old.size > 0) await this.syncChanged();
    await unlink(old.file);
    await fsyncPath(this.root);
  }

  /** Writes the pending values to their files (queued behind a run already going). */
  private apply(): Promise<void> {
    const run = this.applyRun.then(() => this.applyPending());
    this.applyRun = run.catch(() => {});
    return run;
  }

  /** One run for all the writers over the pending limit. */
  private drain(): Promise<void> {
    this.draining ??= this.apply().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async applyPending(): Promise<void> {
    if (this.applyError) throw this.applyError;
    const work = [...this.pending];
    this.writer ??= new FileWriter(this.root);
    for (let i = 0; i < work.length; i += CHUNK) {
      const chunk = work.slice(i, i + CHUNK);
      let r: WriteResult;
      try {
        r = await this.writer.write(chunk);
      } catch (e) {
        this.applyError ??= e as Error;
        throw e;
      }
      for (const p of r.touched) this.unsynced.add(p);
      for (let k = 0; k < r.done; k++) {
        const [file, value] = chunk[k] as [string, Uint8Array | null];
        // A newer value that arrived meanwhile stays pending for the next run.
        if (this.pending.get(file) === value) {
          this.pending.delete(file);
          if (value) this.pendingBytes -= value.length;
        }
      }
      if (r.error !== undefined) {
        // The journal has it: reads keep the values from memory, journals are kept for a replay
        // at the next start, and writes are refused until then.
        this.applyError ??= new Error(r.error);
        throw this.applyError;
      }
    }
  }

  /** Makes the files written so far durable: one syncfs for the whole tree, else file by file. */
  private async syncChanged(): Promise<void> {
    const paths = [...this.unsynced];
    this.unsynced = new Set();
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
    const r = tryLockFile(join(this.root, LOCK_FILE), 0o600);
    if ('release' in r) return;
    if (r.holder === process.pid) throw new Error(`storage ${this.root} is already open in this process`);
    throw new StorageInUseError(
      `storage ${this.root} is in use by process ${r.holder || 'unknown'} (one server or daemon per data directory)`,
    );
  }

  /** Replays the journals a crash left, syncs what they wrote, and starts a new journal. */
  private async recover(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await this.lock();
    const journals = (await readdir(this.root))
      .filter((n) => JOURNAL_RE.test(n))
      .sort()
      .map((n) => join(this.root, n));
    // Journals with a damaged record are kept aside (renamed, never deleted): what follows the
    // damage was not replayed. Their complete records before it are replayed like the others'.
    const damaged = new Map<string, string>();
    for (const file of journals) {
      const { ops, damage } = decodeRecords(await readFile(file));
      for (const r of ops) this.setPending(this.filePath(r.key), r.value);
      if (damage) {
        const aside = `${file}.damaged-${Date.now()}`;
        damaged.set(file, aside);
        this.onWarning(
          `JOURNAL DAMAGED: ${file}: ${damage}; the ${ops.length} operations before it were replayed, the rest ` +
            `were not. The journal is kept as ${aside}; restore the data directory from a backup if acknowledged ` +
            'writes are missing.',
        );
      }
    }
    if (this.pending.size > 0) {
      await this.applyPending();
      await this.syncChanged();
    }
    for (const file of journals) {
      const aside = damaged.get(file);
      if (aside) await rename(file, aside);
      else await unlink(file);
    }
    const last = journals.at(-1);
    const seq = last ? Number(JOURNAL_RE.exec(last.slice(this.root.length + 1))?.[1] ?? 0) + 1 : 1;
    this.journal = await Journal.create(this.root, seq);
    await fsyncPath(this.root);
  }
}

/**
 * What the file writer thread runs (plain JavaScript, evaluated: it works the same from the
 * TypeScript sources under test and from the build). It writes files in place and removes
 * files and the folders they leave empty, in order, and says which paths changed.
 */
const FILE_WRITER = `
const { mkdirSync, rmdirSync, unlinkSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const root = workerData.root;
const knownDirs = new Set();
// Below the request path in the scheduler: the journal has made every value durable already, so
// these writes can wait while requests are served. (Linux: a thread's id is its own nice target.)
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, 10);
} catch {}
parentPort.on('message', (entries) => {
  const touched = new Set();
  // A folder that gets a file in this chunk is not left empty by a removal in it.
  const written = new Set();
  for (const [file, value] of entries) if (value) written.add(dirname(file));
  let done = 0;
  try {
    for (const [file, value] of entries) {
      if (value) write(file, value, touched);
      else remove(file, touched, written);
      done++;
    }
    parentPort.postMessage({ done, touched: [...touched] });
  } catch (e) {
    parentPort.postMessage({ done, touched: [...touched], error: String((e && e.message) || e) });
  }
});
function write(file, value, touched) {
  const dir = dirname(file);
  for (let attempt = 0; ; attempt++) {
    try {
      if (!knownDirs.has(dir)) {
        const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
        // Each new folder is an entry in its parent: from the first one created down, all changed.
        if (created) for (let d = dir; d.length >= created.length; d = dirname(d)) touched.add(dirname(d));
        if (knownDirs.size >= 100000) knownDirs.clear();
        knownDirs.add(dir);
      }
      writeFileSync(file, value, { mode: 0o600 });
      touched.add(file);
      touched.add(dir);
      return;
    } catch (e) {
      // A folder removed behind our back: create it again, once.
      knownDirs.delete(dir);
      if (e.code !== 'ENOENT' || attempt > 0) throw e;
    }
  }
}
function remove(file, touched, written) {
  try {
    unlinkSync(file);
  } catch (e) {
    if (e.code === 'ENOENT') return;
    throw e;
  }
  touched.add(dirname(file));
  // Remove folders left empty, up to the root; rmdir fails on a non-empty one, which ends it.
  for (let d = dirname(file); d !== root && d.startsWith(root) && !written.has(d); d = dirname(d)) {
    try {
      rmdirSync(d);
      knownDirs.delete(d);
      touched.add(dirname(d));
    } catch {
      break;
    }
  }
}
`;

interface WriteResult {
  /** How many entries of the chunk were carried out (all, unless `error`). */
  done: number;
  touched: string[];
  error?: string;
}

/** The file writer thread; one chunk at a time. Referenced only while it works. */
class FileWriter {
  private readonly worker: Worker;
  private waiting: { resolve: (r: WriteResult) => void; reject: (e: Error) => void } | undefined;
  private failed: Error | undefined;

  constructor(root: string) {
    this.worker = new Worker(FILE_WRITER, { eval: true, workerData: { root } });
    this.worker.unref();
    this.worker.on('message', (r: WriteResult) => this.settle((w) => w.resolve(r)));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`the file writer thread exited (${code})`)));
  }

  write(entries: [string, Uint8Array | null][]): Promise<WriteResult> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage(entries);
    });
  }

  async close(): Promise<void> {
    this.failed ??= new Error('storage is closed');
    await this.worker.terminate();
  }

  private fail(e: Error): void {
    this.failed ??= e;
    this.settle((w) => w.reject(e));
  }

  private settle(f: (w: { resolve: (r: WriteResult) => void; reject: (e: Error) => void }) => void): void {
    const w = this.waiting;
    this.waiting = undefined;
    this.worker.unref();
    if (w) f(w);
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
    // O_DSYNC: a write returns once durable, one trip through libuv's thread pool instead of two.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (DSYNC ?? 0);
    return new Journal(file, seq, await open(file, flags, 0o600));
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
        for (let off = 0; off < data.length; ) off += (await this.fh.write(data, off)).bytesWritten;
        if (DSYNC === undefined) await this.fh.datasync();
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

/**
 * A batch as one journal record:
 * [u32 length of the rest][u8 BATCH][u16 count] then per operation
 * [u8 PUT|DEL][u16 key length][u32 value length][key][value], and a CRC-32 of all before.
 */
function encodeBatch(ops: StorageOp[]): Buffer {
  const keys = ops.map((o) => Buffer.from(o.key));
  let size = 4 + 1 + 2 + 4;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i] as StorageOp;
    size += 7 + (keys[i] as Buffer).length + (o.op === 'put' ? o.value.length : 0);
  }
  if (ops.length > 0xffff) throw new Error('storage batch too large');
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32BE(size - 4, 0);
  buf.writeUInt8(BATCH, 4);
  buf.writeUInt16BE(ops.length, 5);
  let o = 7;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as StorageOp;
    const k = keys[i] as Buffer;
    const v = op.op === 'put' ? op.value : undefined;
    buf.writeUInt8(v ? PUT : DEL, o);
    buf.writeUInt16BE(k.length, o + 1);
    buf.writeUInt32BE(v ? v.length : 0, o + 3);
    k.copy(buf, o + 7);
    o += 7 + k.length;
    if (v) {
      buf.set(v, o);
      o += v.length;
    }
  }
  buf.writeUInt32BE(crc32(buf.subarray(0, o)), o);
  return buf;
}

/**
 * The operations of the complete records of a journal, up to the first torn or damaged one. A
 * record cut short at the end of the file is the torn write of a crash (never acknowledged):
 * dropped quietly. A complete record that fails its CRC or does not decode is damage: `damage`
 * says where, and nothing after it is returned.
 */
export function decodeRecords(buf: Buffer): { ops: { key: string; value: Uint8Array | null }[]; damage?: string } {
  const out: { key: string; value: Uint8Array | null }[] = [];
  const damaged = (o: number, why: string) => ({ ops: out, damage: `record at byte ${o} ${why}` });
  let o = 0;
  while (o + 4 <= buf.length) {
    const end = o + 4 + buf.readUInt32BE(o);
    if (end > buf.length) break;
    if (end - o < 11) return damaged(o, 'has an impossible length');
    if (crc32(buf.subarray(o, end - 4)) !== buf.readUInt32BE(end - 4)) return damaged(o, 'fails its CRC');
    if (buf.readUInt8(o + 4) !== BATCH) return damaged(o, 'has an unknown type');
    const ops: { key: string; value: Uint8Array | null }[] = [];
    let p = o + 7;
    for (let n = buf.readUInt16BE(o + 5); n > 0; n--) {
      if (p + 7 > end - 4) return damaged(o, 'does not decode');
      const op = buf.readUInt8(p);
      const klen = buf.readUInt16BE(p + 1);
      const vlen = buf.readUInt32BE(p + 3);
      const vstart = p + 7 + klen;
      if (vstart + vlen > end - 4 || (op !== PUT && op !== DEL)) return damaged(o, 'does not decode');
      const key = buf.subarray(p + 7, vstart).toString();
      ops.push({ key, value: op === PUT ? new Uint8Array(buf.subarray(vstart, vstart + vlen)) : null });
      p = vstart + vlen;
    }
    out.push(...ops);
    o = end;
  }
  return { ops: out };
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
