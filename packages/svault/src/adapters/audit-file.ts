import { type FileHandle, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { AuditSink } from '../core/audit.js';

export interface FileSinkOptions {
  /** Days a rotated file is kept; 0 keeps them forever. */
  retentionDays: number;
  /** The clock (tests move it). */
  now?: () => Date;
}

const DAY_MS = 86_400_000;
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The `file` audit device: appends lines to a file (mode 0600). Once a day, on the first write of
 * a new (UTC) day, the file is renamed to `<file>.<YYYY-MM-DD>` and a new one started; rotated
 * files older than the retention are deleted. The hash chain runs on across files, so
 * `svault audit verify audit.log.* audit.log` checks them all. A file that was moved or deleted
 * from under the server (logrotate, an operator) is noticed within a second and re-created.
 */
export class FileAuditSink implements AuditSink {
  private readonly file: string;
  private fh: FileHandle | undefined;
  private ino = 0;
  private regular = true;
  private currentDay: string | undefined;
  private checkedAt = 0;
  private readonly now: () => Date;

  constructor(
    file: string,
    private readonly opts: FileSinkOptions,
  ) {
    this.file = resolve(file);
    this.now = opts.now ?? (() => new Date());
  }

  async open(): Promise<void> {
    await this.ensureOpen();
  }

  async write(data: string): Promise<void> {
    if (this.fh && this.regular) await this.checkFile();
    await this.ensureOpen();
    await (this.fh as FileHandle).appendFile(data);
  }

  async lastLine(): Promise<string | undefined> {
    const here = await lastLineOf(this.file);
    if (here !== undefined) return here;
    const rotated = await this.rotatedFiles();
    const latest = rotated.at(-1);
    return latest ? lastLineOf(join(dirname(this.file), latest.name)) : undefined;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  private async ensureOpen(): Promise<void> {
    if (this.fh) return;
    const fh = await open(this.file, 'a', 0o600);
    const st = await fh.stat();
    this.fh = fh;
    this.ino = st.ino;
    this.regular = st.isFile();
    this.checkedAt = Date.now();
    // A file left from an earlier day is rotated before today's lines go in.
    this.currentDay = st.size > 0 ? day(st.mtime) : day(this.now());
    if (this.regular) await this.rotateIfNewDay();
  }

  /** At most once a second: a new day rotates; a file replaced or removed meanwhile is reopened. */
  private async checkFile(): Promise<void> {
    const today = day(this.now());
    if (today !== this.currentDay) {
      await this.rotateIfNewDay();
      return;
    }
    if (Date.now() - this.checkedAt < 1000) return;
    this.checkedAt = Date.now();
    const st = await stat(this.file).catch(() => undefined);
    if (!st || st.ino !== this.ino) await this.close();
  }

  private async rotateIfNewDay(): Promise<void> {
    const today = day(this.now());
    if (this.currentDay === today || !this.fh) return;
    const size = (await this.fh.stat()).size;
    if (size > 0) {
      await this.close();
      let target = `${this.file}.${this.currentDay}`;
      for (let n = 1; await exists(target); n++) target = `${this.file}.${this.currentDay}-${n}`;
      await rename(this.file, target);
      await this.prune(today);
      await this.ensureOpen();
    }
    this.currentDay = today;
  }

  private async rotatedFiles(): Promise<{ name: string; day: string }[]> {
    const prefix = `${basename(this.file)}.`;
    const names = await readdir(dirname(this.file)).catch(() => [] as string[]);
    return names
      .filter((n) => n.startsWith(prefix) && /^\d{4}-\d{2}-\d{2}(-\d+)?$/.test(n.slice(prefix.length)))
      .map((n) => ({ name: n, day: n.slice(prefix.length, prefix.length + 10) }))
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  }

  private async prune(today: string): Promise<void> {
    if (!(this.opts.retentionDays > 0)) return;
    const cutoff = day(new Date(Date.parse(today) - this.opts.retentionDays * DAY_MS));
    for (const f of await this.rotatedFiles()) {
      if (f.day < cutoff) await unlink(join(dirname(this.file), f.name)).catch(() => {});
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** The last complete line of a regular file (without its newline), or undefined. */
async function lastLineOf(file: string): Promise<string | undefined> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile() || st.size === 0) return undefined;
  const fh = await open(file, 'r');
  try {
    let len = Math.min(st.size, 64 * 1024);
    for (;;) {
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, st.size - len);
      const text = buf.toString('utf8').replace(/\n$/, '');
      const nl = text.lastIndexOf('\n');
      if (nl >= 0 || len === st.size) return text.slice(nl + 1) || undefined;
      if (len >= 16 * 1024 * 1024) return text;
      len = Math.min(st.size, len * 4);
    }
  } finally {
    await fh.close();
  }
}
