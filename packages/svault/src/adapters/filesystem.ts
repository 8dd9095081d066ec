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
 * Durability with group commit: a write is first appended to a journal (`journal-N.log`), and the
 * journal is fsynced once for all the writes that arrived meanwhile; then the file is written in
 * place and the write is acknowledged. While a file is being written, reads of its key are served
 * the new value from memory, so no reader sees a half-written file; a crash in the middle leaves
 * a torn file that the journal restores. Once a journal is large or old enough a new one is
 * started, the file system is synced (`sync -f`, i.e. syncfs; else each file and folder written
 * is fsynced), and the old journal is deleted. On open, the journals left by a crash are replayed
 * (records are whole values, so replaying is idempotent; a torn last record was never
 * acknowledged and is dropped). Concurrent writers of a key are serialized, so the journal order
 * is the order of the files.
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
  /** Files being written or removed right now, and their new value (null: being removed). */
  private readonly inFlight = new Map<string, Uint8Array | null>();
  private syncfs = true;
  /** A journaled write could not reach its file: the journals are kept and writes refused. */
  private applyError: Error | undefined;
  /** File updates of acknowledged batches still running. */
  private readonly applying = new Set<Promise<void>>();

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
    const writing = this.inFlight.get(file);
    if (writing !== undefined) return writing ?? undefined;
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

  /**
   * One journal append (one fsync) for all the operations. The batch is acknowledged once the
   * journal holds it; the files are then brought up to date while the keys stay locked, and
   * readers get the new values from memory meanwhile.
   */
  async batch(ops: StorageOp[]): Promise<void> {
    const targets = ops.map((o) => this.filePath(o.key));
    await this.open();
    await new Promise<void>((acknowledge, fail) => {
      this.locks
        .runAll(
          ops.map((o) => o.key),
          async () => {
            let j: Journal;
            try {
              j = await this.logged(
                Buffer.concat(
                  ops.map((o) => encodeRecord(o.op === 'put' ? PUT : DEL, o.key, o.op === 'put' ? o.value : EMPTY)),
                ),
              );
            } catch (e) {
              fail(e);
              return;
            }
            for (let i = 0; i < ops.length; i++) {
              const o = ops[i] as StorageOp;
              this.inFlight.set(targets[i] as string, o.op === 'put' ? o.value : null);
            }
            let done = () => {};
            const applying = new Promise<void>((res) => {
              done = res;
            });
            this.applying.add(applying);
            acknowledge();
            try {
              // The last operation on a file wins, as in the journal.
              const last = new Map<string, number>();
              for (let i = 0; i < targets.length; i++) last.set(targets[i] as string, i);
              const written = new Set<string>();
              for (const [t, i] of last) if ((ops[i] as StorageOp).op === 'put') written.add(dirname(t));
              await Promise.all(
                [...last.values()].map(async (i) => {
                  const o = ops[i] as StorageOp;
                  const target = targets[i] as string;
                  if (o.op === 'put') {
                    await this.writeFile(target, o.value, (p) => j.touch(p));
                    j.touchFile(target);
                  } else await this.removeFile(target, (p) => j.touch(p), written);
                }),
              );
              for (const t of last.keys()) this.inFlight.delete(t);
            } catch (e) {
              // The journal has it: reads keep the new values from memory, journals are kept
              // for a replay at the next start, and writes are refused until then.
              this.applyError ??= e as Error;
            } finally {
              this.applying.delete(applying);
              done();
              j.applied();
            }
          },
        )
        .catch(fail);
    });
  }

  async list(prefix: string): Promise<string[]> {
    const dir = this.dirPath(prefix);
    await this.open();
    // A listing shows every acknowledged write: let the files written so far catch up first.
    await this.applied();
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

  /** Resolves once every write acknowledged so far has reached its file (tests look at the files). */
  async flush(): Promise<void> {
    await this.ready;
    await this.applied();
  }

  /** The file updates of the batches acknowledged until now (later ones are not waited for). */
  private async applied(): Promise<void> {
    if (this.applying.size > 0) await Promise.all([...this.applying]);
  }

  private open(): Promise<void> {
    this.ready ??= this.recover();
    return this.ready;
  }

  /** Appends a record and waits for the fsync that covers it; returns the journal it went to. */
  private async logged(record: Buffer): Promise<Journal> {
    if (this.closed) throw new Error('storage is closed');
    if (this.applyError) {
      throw new Error(`storage failed (${this.applyError.message}); restart to recover from the journal`);
    }
    const j = this.journal as Journal;
    j.pending++;
    try {
      await j.append(record);
    } catch (e) {
      j.applied();
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
   * Starts a new journal, waits for the writes of the old one to reach their files, fsyncs those
   * files and folders, then deletes the old journal (which a crash before that point replays).
   */
  private async checkpoint(final: boolean): Promise<void> {
    const old = this.journal;
    if (!old) return;
    if (old.size === 0 && !final) return;
    this.journal = final ? undefined : await Journal.create(this.root, old.seq + 1);
    await old.drained();
    await old.close();
    if (old.size > 0) await this.syncTree([...old.files, ...old.dirs]);
    // After a failed write every journal stays, so that a replay rebuilds the state in order.
    if (this.applyError) return;
    await unlink(old.file);
    await fsyncPath(this.root);
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
  /** Records appended whose file operation has not finished yet. */
  pending = 0;
  readonly files = new Set<string>();
  readonly dirs = new Set<string>();
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

  /** A folder whose entries changed. */
  touch(dir: string): void {
    this.dirs.add(dir);
  }

  /** A file written. */
  touchFile(file: string): void {
    this.files.add(file);
  }

  applied(): void {
    this.pending--;
    if (this.pending === 0) for (const f of this.idle.splice(0)) f();
  }

  /** Resolves once every record appended here has reached its file (or failed). */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
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
