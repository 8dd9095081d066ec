import { createHash } from 'node:crypto';
import type { LogicalStore } from './barrier.js';
import { hmacSha256, randomKey } from './crypto.js';
import { invalid, VaultError } from './errors.js';
import { setOwn } from './fields.js';

/**
 * Audit devices, as Vault's: every logical request and its response become one JSON line each
 * on every enabled device. Strings in request and response data, tokens and accessors are
 * replaced by `hmac-sha256:<hex>` with a key of the device's own (`sys/audit-hash` computes it
 * for a known value). Each line carries `seq`, the hash of the line before (`prev`) and its own
 * hash (`hash`, over the line without that field), so `audit verify` finds a line that was
 * changed, removed or moved.
 *
 * Reliability: when devices are enabled a request proceeds only once at least one of them has
 * written its line (Vault's rule). Writes to a device are queued and batched, one write in flight
 * per device; a device whose write takes longer than the timeout counts as failed for the
 * waiting requests and refuses new lines until its write returns, so a hung device costs at
 * most one stuck write and a timeout, never a hung server.
 */

/** Where lines go (a file, later a socket or syslog). Implemented by adapters. */
export interface AuditSink {
  /** Checks that lines can be written (called when the device is enabled); throws when not. */
  open(): Promise<void>;
  /** Appends the lines (each ends with '\n'). */
  write(data: string): Promise<void>;
  /** The last line written before (this or an earlier run), to continue the hash chain. */
  lastLine(): Promise<string | undefined>;
  close(): Promise<void>;
}

export type AuditSinkFactory = (options: Record<string, string>) => AuditSink;

export interface AuditSettings {
  /** Sink factories by device type, e.g. { file: ... }. */
  sinks: Record<string, AuditSinkFactory>;
  /** How long a request waits for a device before counting it as failed. */
  timeoutMs?: number;
  /** A device the configuration asks for ([audit] in svault.toml), enabled after unseal when absent. */
  configDevice?: { path: string; type: string; options: Record<string, string> };
}

interface DeviceEntry {
  path: string;
  type: string;
  description: string;
  options: Record<string, string>;
  local: boolean;
  /** Base64 HMAC key; a re-enabled device gets a new one (as Vault's salt). */
  salt: string;
}

const TABLE = 'core/audit';
const DEFAULT_TIMEOUT_MS = 3000;
const GENESIS = `sha256:${'0'.repeat(64)}`;
const HASH_FIELD = /,"hash":"(sha256:[0-9a-f]{64})"\}$/;
const enc = new TextEncoder();
const dec = new TextDecoder();

export const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

class Device {
  seq = 0;
  head = GENESIS;
  private queue: string[] = [];
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private inflightSince: number | undefined;
  private readonly key: Uint8Array;

  constructor(
    readonly entry: DeviceEntry,
    readonly sink: AuditSink,
    readonly timeoutMs: number,
  ) {
    this.key = new Uint8Array(Buffer.from(entry.salt, 'base64'));
  }

  hmac(value: string): string {
    return `hmac-sha256:${Buffer.from(hmacSha256(this.key, value)).toString('hex')}`;
  }

  /** A write has been in flight for longer than the timeout: the device is stuck. */
  get blocked(): boolean {
    return this.inflightSince !== undefined && Date.now() - this.inflightSince > this.timeoutMs;
  }

  /** Chains and queues one entry; resolves when written, rejects on error or timeout. */
  append(entry: Record<string, unknown>): Promise<void> {
    if (this.blocked) return Promise.reject(new Error(`audit device ${this.entry.path} is blocked`));
    this.seq += 1;
    const body = JSON.stringify({ ...entry, seq: this.seq, prev: this.head });
    this.head = sha256(body);
    const line = `${body.slice(0, -1)},"hash":"${this.head}"}\n`;
    const written = new Promise<void>((resolve, reject) => {
      this.queue.push(line);
      this.waiters.push({ resolve, reject });
    });
    this.kick();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`audit device ${this.entry.path} did not write within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    return Promise.race([written, timeout]).finally(() => clearTimeout(timer));
  }

  private kick(): void {
    if (this.inflightSince !== undefined || this.queue.length === 0) return;
    const data = this.queue.join('');
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    this.inflightSince = Date.now();
    this.sink
      .write(data)
      .then(
        () => {
          for (const w of waiters) w.resolve();
        },
        (e: Error) => {
          for (const w of waiters) w.reject(e);
        },
      )
      .finally(() => {
        this.inflightSince = undefined;
        this.kick();
      });
  }
}

/** What a request looked like to the vault, for its audit lines. */
export interface AuditRequest {
  id: string;
  operation: string;
  path: string;
  data: Record<string, unknown>;
  remoteAddress?: string;
  mountType: string;
  mountPoint: string;
  token?: string;
  auth?: {
    accessor: string;
    displayName: string;
    policies: string[];
    metadata: Record<string, string> | null;
  };
}

export interface AuditOutcome {
  data?: Record<string, unknown> | null;
  auth?: Record<string, unknown>;
  warnings?: string[];
  error?: string;
}

/** The devices that took a request's line: its response goes to the same ones. */
export type AuditTicket = Device[];

export class AuditBroker {
  private devices = new Map<string, Device>();
  private lastError = '';

  private constructor(
    private readonly store: LogicalStore,
    private readonly settings: AuditSettings,
    private readonly onError: (msg: string) => void,
  ) {}

  /** Loads the enabled devices (after unseal) and continues each one's hash chain. */
  static async open(
    store: LogicalStore,
    settings: AuditSettings,
    onError: (msg: string) => void = () => {},
  ): Promise<AuditBroker> {
    const b = new AuditBroker(store, settings, onError);
    for (const e of await b.table()) {
      const sink = b.makeSink(e);
      const dev = new Device(e, sink, b.timeoutFor(e));
      await b.resume(dev).catch((err: Error) => onError(`audit device ${e.path}: ${err.message}`));
      b.devices.set(e.path, dev);
    }
    const cfg = settings.configDevice;
    if (cfg && !b.devices.has(cfg.path)) await b.enable(cfg.path, cfg.type, 'from the configuration file', cfg.options);
    return b;
  }

  get enabled(): boolean {
    return this.devices.size > 0;
  }

  list(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [path, d] of this.devices) {
      out[path] = {
        type: d.entry.type,
        description: d.entry.description,
        options: d.entry.options,
        path,
        local: d.entry.local,
        // svault's own: where the hash chain stands, to compare with `audit verify`.
        seq: d.seq,
        head: d.head,
      };
    }
    return out;
  }

  async enable(path: string, type: string, description: string, options: Record<string, string>): Promise<void> {
    const p = normalizeDevicePath(path);
    if (this.devices.has(p)) throw invalid(`path already in use: "${p}"`);
    if (!this.settings.sinks[type]) throw invalid(`unknown audit device type "${type}"`);
    const entry: DeviceEntry = {
      path: p,
      type,
      description,
      options,
      local: false,
      salt: Buffer.from(randomKey()).toString('base64'),
    };
    const dev = new Device(entry, this.makeSink(entry), this.timeoutFor(entry));
    try {
      await withTimeout(dev.sink.open(), dev.timeoutMs, `audit device ${p} did not open`);
      await this.resume(dev);
    } catch (e) {
      await dev.sink.close().catch(() => {});
      throw invalid(`cannot enable audit device ${p}: ${(e as Error).message}`);
    }
    await this.store.put(TABLE, enc.encode(JSON.stringify([...(await this.table()), entry])));
    this.devices.set(p, dev);
  }

  async disable(path: string): Promise<void> {
    const p = normalizeDevicePath(path);
    const dev = this.devices.get(p);
    if (!dev) return;
    this.devices.delete(p);
    await this.store.put(TABLE, enc.encode(JSON.stringify((await this.table()).filter((e) => e.path !== p))));
    await dev.sink.close().catch(() => {});
  }

  hash(path: string, input: string): string {
    const dev = this.devices.get(normalizeDevicePath(path));
    if (!dev) throw invalid(`unknown audit device "${path}"`);
    return dev.hmac(input);
  }

  async close(): Promise<void> {
    const devs = [...this.devices.values()];
    this.devices.clear();
    await Promise.all(devs.map((d) => d.sink.close().catch(() => {})));
  }

  /**
   * Logs a request on every device; resolves with the devices that wrote it as soon as one has,
   * rejects (500) when none could.
   */
  async logRequest(req: AuditRequest, error?: string): Promise<AuditTicket> {
    const devs = [...this.devices.values()];
    if (devs.length === 0) return [];
    return this.fanOut(devs, (d) => ({
      time: new Date().toISOString(),
      type: 'request',
      auth: auditAuth(d, req),
      request: auditRequest(d, req),
      error: error ?? '',
    }));
  }

  async logResponse(ticket: AuditTicket, req: AuditRequest, out: AuditOutcome): Promise<void> {
    // Devices disabled meanwhile are left out; with none left there is nothing to require.
    const devs = ticket.filter((d) => this.devices.get(d.entry.path) === d);
    if (devs.length === 0) return;
    await this.fanOut(devs, (d) => ({
      time: new Date().toISOString(),
      type: 'response',
      auth: auditAuth(d, req),
      request: auditRequest(d, req),
      response:
        out.data === undefined && out.auth === undefined
          ? null
          : {
              data: hmacValues(d, out.data ?? null),
              ...(out.auth ? { auth: hmacAuth(d, out.auth) } : {}),
              ...(out.warnings?.length ? { warnings: out.warnings } : {}),
            },
      error: out.error ?? '',
    }));
  }

  private fanOut(devs: Device[], build: (d: Device) => Record<string, unknown>): Promise<Device[]> {
    return new Promise((resolve, reject) => {
      const ok: Device[] = [];
      let pending = devs.length;
      let answered = false;
      const errors: string[] = [];
      const done = () => {
        if (--pending > 0) return;
        if (!answered) {
          const msg = `no audit device could record the request: ${errors.join('; ')}`;
          if (msg !== this.lastError) this.onError(msg);
          this.lastError = msg;
          reject(new VaultError('internal', 'audit log failed: no enabled audit device could record the request'));
        }
      };
      for (const d of devs) {
        d.append(build(d)).then(
          () => {
            ok.push(d);
            this.lastError = '';
            // One device is enough to go on (Vault's rule); the others finish in the background.
            if (!answered) {
              answered = true;
              resolve(ok);
            }
            done();
          },
          (e: Error) => {
            errors.push(e.message);
            done();
          },
        );
      }
    });
  }

  private async table(): Promise<DeviceEntry[]> {
    const raw = await this.store.get(TABLE);
    return raw ? (JSON.parse(dec.decode(raw)) as DeviceEntry[]) : [];
  }

  private makeSink(e: DeviceEntry): AuditSink {
    const factory = this.settings.sinks[e.type];
    if (!factory) throw new VaultError('internal', `audit device ${e.path}: unknown type ${e.type}`);
    return factory(e.options);
  }

  private timeoutFor(e: DeviceEntry): number {
    const t = Number(e.options.timeout_ms);
    return Number.isFinite(t) && t > 0 ? t : (this.settings.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** Continues the chain from the device's last line, if it has one. */
  private async resume(dev: Device): Promise<void> {
    const last = await withTimeout(dev.sink.lastLine(), dev.timeoutMs, 'reading the last line timed out');
    if (!last) return;
    const m = HASH_FIELD.exec(last);
    let seq = 0;
    try {
      seq = Number((JSON.parse(last) as { seq?: unknown }).seq);
    } catch {}
    if (m && Number.isInteger(seq) && seq > 0) {
      dev.seq = seq;
      dev.head = m[1] as string;
    } else {
      // The file does not end with a complete line of ours: start a new chain, anchored on what is there.
      dev.head = sha256(last);
    }
  }
}

function auditAuth(d: Device, req: AuditRequest): Record<string, unknown> | null {
  if (!req.auth) return null;
  return {
    client_token: req.token ? d.hmac(req.token) : '',
    accessor: d.hmac(req.auth.accessor),
    display_name: req.auth.displayName,
    policies: req.auth.policies,
    token_policies: req.auth.policies,
    metadata: req.auth.metadata,
    entity_id: '',
    token_type: 'service',
  };
}

function auditRequest(d: Device, req: AuditRequest): Record<string, unknown> {
  return {
    id: req.id,
    operation: req.operation,
    mount_type: req.mountType,
    mount_point: req.mountPoint,
    client_token: req.token ? d.hmac(req.token) : '',
    client_token_accessor: req.auth ? d.hmac(req.auth.accessor) : '',
    path: req.path,
    data: hmacValues(d, req.data),
    remote_address: req.remoteAddress ?? '',
  };
}

function hmacAuth(d: Device, auth: Record<string, unknown>): Record<string, unknown> {
  const out = { ...auth };
  for (const k of ['client_token', 'accessor']) {
    if (typeof out[k] === 'string' && out[k]) out[k] = d.hmac(out[k] as string);
  }
  return out;
}

/** Every string replaced by its HMAC, recursively; keys, numbers and booleans stay (as Vault). */
function hmacValues<T>(d: Device, v: T): T {
  if (typeof v === 'string') return d.hmac(v) as T;
  if (Array.isArray(v)) return v.map((x) => hmacValues(d, x)) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setOwn(out, k, hmacValues(d, x));
    return out as T;
  }
  return v;
}

export function normalizeDevicePath(p: string): string {
  const path = p.replace(/^\/+/, '').replace(/\/*$/, '/');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\/$/.test(path)) throw invalid(`invalid audit device path "${p}"`);
  return path;
}

function withTimeout<T>(p: Promise<T>, ms: number, msg: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${msg} (${ms} ms)`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// --- verification -----------------------------------------------------------------------------

export interface VerifyBreak {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  kind: 'malformed' | 'changed' | 'removed' | 'reordered';
  reason: string;
}

export interface VerifyReport {
  ok: boolean;
  lines: number;
  first_seq: number | null;
  last_seq: number | null;
  /** The last line's hash: compare with `svault audit list` to detect a truncated tail. */
  head: string | null;
  /** The first line did not start a chain (earlier lines were rotated away or the file is a tail). */
  anchored: boolean;
  broken?: VerifyBreak;
}

interface Parsed {
  file: string;
  line: number;
  seq: number;
  prev: string;
  hash: string;
}

/**
 * Checks hash-chained audit lines from one or more files, in order. Reports the first line
 * that breaks the chain and why: not a line of ours, its content changed, lines missing
 * before it, or lines out of order.
 */
export function verifyAuditLog(files: { name: string; lines: string[] }[]): VerifyReport {
  const parsed: (Parsed | VerifyBreak)[] = [];
  for (const f of files) {
    f.lines.forEach((text, i) => {
      if (text === '' && i === f.lines.length - 1) return; // the final newline
      parsed.push(parseLine(f.name, i + 1, text));
    });
  }
  const seqs = new Set(parsed.flatMap((p) => ('seq' in p ? [p.seq] : [])));
  const report: VerifyReport = {
    ok: true,
    lines: 0,
    first_seq: null,
    last_seq: null,
    head: null,
    anchored: false,
  };
  let prev: Parsed | undefined;
  for (const p of parsed) {
    if (!('seq' in p)) return { ...report, ok: false, broken: p };
    if (!prev) {
      report.first_seq = p.seq;
      report.anchored = p.seq !== 1 || p.prev !== GENESIS;
    } else {
      const expected = prev.seq + 1;
      if (p.seq > expected) {
        const missing = p.seq - expected;
        const moved = seqs.has(expected);
        return {
          ...report,
          ok: false,
          broken: {
            file: p.file,
            line: p.line,
            kind: moved ? 'reordered' : 'removed',
            reason: moved
              ? `line ${p.line} (seq ${p.seq}) comes before seq ${expected}: lines were reordered`
              : `${missing} line(s) missing before line ${p.line} (seq ${expected}${
                  missing > 1 ? `-${p.seq - 1}` : ''
                })`,
          },
        };
      }
      if (p.seq < expected) {
        return {
          ...report,
          ok: false,
          broken: {
            file: p.file,
            line: p.line,
            kind: 'reordered',
            reason: `line ${p.line} (seq ${p.seq}) comes after seq ${prev.seq}: lines were reordered or duplicated`,
          },
        };
      }
      if (p.prev !== prev.hash) {
        // This line is intact and in sequence, so the one before was rewritten (hash recomputed).
        return {
          ...report,
          ok: false,
          broken: {
            file: prev.file,
            line: prev.line,
            kind: 'changed',
            reason: `line ${prev.line} (seq ${prev.seq}) was changed: the next line does not chain to it`,
          },
        };
      }
    }
    report.lines += 1;
    report.last_seq = p.seq;
    report.head = p.hash;
    prev = p;
  }
  return report;
}

function parseLine(file: string, line: number, text: string): Parsed | VerifyBreak {
  const m = HASH_FIELD.exec(text);
  let doc: { seq?: unknown; prev?: unknown } | undefined;
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {}
  if (!m || !doc || !Number.isInteger(doc.seq) || typeof doc.prev !== 'string') {
    return { file, line, kind: 'malformed', reason: `line ${line} is not an audit entry (changed or truncated)` };
  }
  const body = `${text.slice(0, m.index)}}`;
  const hash = m[1] as string;
  if (sha256(body) !== hash) {
    return { file, line, kind: 'changed', reason: `line ${line} was changed: its hash does not match its content` };
  }
  return { file, line, seq: doc.seq as number, prev: doc.prev, hash };
}
