import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * A port nobody listens on right now: bind port 0 on loopback, read what the kernel gave, release it.
 * Another process can grab it before the server binds; the start helpers retry on "address already in use".
 */
export function getFreePort(host: string = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** True when something accepts a TCP connection on host:port within timeoutMs. */
export function canConnect(port: number, host: string = LOOPBACK, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.connect(port, host, () => done(true));
  });
}

export interface ProbeOptions {
  host?: string;
  /** Bytes to write once connected (e.g. a protocol greeting). */
  send?: Buffer;
  /**
   * Called with everything received so far: return true when the server answered as a ready server does,
   * false to wait for more bytes, or a string to fail the probe with that reason.
   */
  accept: (received: Buffer) => boolean | string;
  /** Written before closing a successful probe, so the server does not log an unexpected EOF. */
  farewell?: Buffer;
  timeoutMs?: number;
}

/** Connects, optionally sends a greeting, and resolves once `accept` is satisfied; rejects with the reason. */
export function probeTcp(port: number, opts: ProbeOptions): Promise<void> {
  const { host = LOOPBACK, timeoutMs = 2_000 } = opts;
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      sock.setTimeout(0);
      if (!err && opts.farewell) sock.end(opts.farewell, () => sock.destroy());
      else sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.setTimeout(timeoutMs, () => finish(new Error(`no answer within ${timeoutMs} ms`)));
    sock.once('error', (err) => finish(err));
    sock.once('close', () => finish(new Error('connection closed before the server answered')));
    sock.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const verdict = opts.accept(received);
      if (verdict === true) finish();
      else if (typeof verdict === 'string') finish(new Error(verdict));
    });
    sock.connect(port, host, () => {
      if (opts.send) sock.write(opts.send);
    });
  });
}

/**
 * The first of `span` consecutive loopback ports nobody listens on now, for servers configured with
 * fixed ports (base + offset). Taken below the kernel's ephemeral range (32768-), where the ports 0
 * that other tests' servers bind come from; a random start keeps parallel test files apart.
 */
export async function freePortBlock(span: number, host: string = LOOPBACK): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((done) => {
      const srv = createServer();
      srv.once('error', () => done(false));
      srv.listen({ port, host, exclusive: true }, () => srv.close(() => done(true)));
    });
  const first = 10_000;
  const last = Math.min(32_000, ephemeralStart() - 100) - span;
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = first + Math.floor(Math.random() * ((last - first) / 10)) * 10;
    let ok = true;
    for (let p = base; ok && p < base + span; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error(`no ${span} consecutive free ports on ${host} between ${first} and ${last + span}`);
}

/** The first port of the kernel's ephemeral range (where port 0 binds land); Linux's default when unknown. */
function ephemeralStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}
