import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/**
 * Vault clients may list with the `LIST` HTTP verb, which Node's HTTP parser rejects with 400
 * before any framework sees the request. Each connection is wrapped in a stream that rewrites
 * the request line `LIST /p` to `GET /p?list=true` (Vault treats both the same). It follows
 * message boundaries by Content-Length and stops rewriting on a connection that sends a
 * chunked body or upgrades, which is harmless: that connection just keeps Node's behaviour.
 */
export function installListVerbShim(server: Server): void {
  const listeners = server.listeners('connection') as ((s: unknown) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const wrapped = new ListVerbSocket(socket);
    for (const l of listeners) l.call(server, wrapped);
  });
}

const MAX_HEAD = 64 * 1024;

class ListVerbSocket extends Duplex {
  private buf: Buffer = Buffer.alloc(0);
  private bodyLeft = 0;
  private passthrough = false;

  constructor(private readonly sock: Socket) {
    super({ allowHalfOpen: true });
    sock.on('data', (chunk: Buffer) => {
      const out = this.rewrite(chunk);
      if (out.length > 0 && !this.push(out)) sock.pause();
    });
    sock.on('end', () => {
      if (this.buf.length) this.push(this.buf);
      this.buf = Buffer.alloc(0);
      this.push(null);
    });
    sock.on('error', (e) => this.destroy(e));
    sock.on('close', () => this.destroy());
    sock.on('timeout', () => this.emit('timeout'));
    sock.on('drain', () => this.emit('drain'));
  }

  get remoteAddress() {
    return this.sock.remoteAddress;
  }
  get remotePort() {
    return this.sock.remotePort;
  }
  get remoteFamily() {
    return this.sock.remoteFamily;
  }
  get localAddress() {
    return this.sock.localAddress;
  }
  get localPort() {
    return this.sock.localPort;
  }
  get encrypted() {
    return (this.sock as Socket & { encrypted?: boolean }).encrypted;
  }
  setTimeout(ms: number, cb?: () => void): this {
    this.sock.setTimeout(ms, cb);
    return this;
  }
  setNoDelay(v?: boolean): this {
    this.sock.setNoDelay(v);
    return this;
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    this.sock.setKeepAlive(enable, delay);
    return this;
  }
  ref(): this {
    this.sock.ref();
    return this;
  }
  unref(): this {
    this.sock.unref();
    return this;
  }

  override _read(): void {
    this.sock.resume();
  }
  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.sock.write(chunk, encoding, cb);
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.sock.end(cb);
  }
  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.sock.destroy(err ?? undefined);
    cb(err);
  }

  private rewrite(chunk: Buffer): Buffer {
    if (this.passthrough) return chunk;
    const out: Buffer[] = [];
    let data = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, data.length);
        out.push(data.subarray(0, n));
        this.bodyLeft -= n;
        data = data.subarray(n);
        continue;
      }
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        if (data.length > MAX_HEAD) {
          this.passthrough = true;
          out.push(data);
        } else this.buf = data;
        break;
      }
      let head = data.subarray(0, end + 4).toString('latin1');
      data = data.subarray(end + 4);
      if (head.startsWith('LIST ')) {
        head = head.replace(/^LIST (\S+)/, (_m, target: string) => {
          const sep = target.includes('?') ? '&' : '?';
          return `GET ${target}${sep}list=true`;
        });
      }
      const headers = head.toLowerCase();
      if (
        /\r\ntransfer-encoding:[^\r]*chunked/.test(headers) ||
        /\r\nupgrade:/.test(headers) ||
        head.startsWith('CONNECT ')
      ) {
        this.passthrough = true;
        out.push(Buffer.from(head, 'latin1'), data);
        return Buffer.concat(out);
      }
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(headers);
      this.bodyLeft = cl ? Number(cl[1]) : 0;
      out.push(Buffer.from(head, 'latin1'));
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}
