import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Vault clients may list with the `LIST` HTTP verb, which Node's HTTP parser rejects with 400
 * before any framework sees the request. On each connection the request line `LIST /p` is
 * rewritten to `GET /p?list=true` (Vault treats both the same) before the parser reads it.
 *
 * How: Node's HTTP server normally feeds the socket to its parser natively, where nothing can
 * be intercepted. Marking the socket's handle as already consumed makes the server read it
 * through 'data' events instead, and the socket's `emit` rewrites those chunks. The socket
 * stays the real one (its writes, timeouts and TLS are untouched); the cost is the JavaScript
 * data path, far less than wrapping the socket in another stream. Message boundaries are
 * followed by Content-Length; a connection that sends a chunked body or upgrades is left alone
 * from then on, which is harmless: it just keeps Node's behaviour.
 */
export function installListVerbShim(server: Server): void {
  // Before the HTTP server's own listener, which decides how to read the socket.
  server.prependListener('connection', (socket: Socket) => {
    const handle = (socket as Socket & { _handle?: { _consumed?: boolean } | null })._handle;
    if (handle) handle._consumed = true;
    const rewriter = new ListRewriter();
    const emit = socket.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
    const patched = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'data' && !rewriter.done) {
        const out = rewriter.rewrite(args[0] as Buffer);
        return out.length > 0 ? emit.call(this, 'data', out) : true;
      }
      if (event === 'end') {
        const rest = rewriter.flush();
        if (rest.length > 0) emit.call(this, 'data', rest);
      }
      return emit.call(this, event, ...args);
    };
    socket.emit = patched as Socket['emit'];
  });
}

const MAX_HEAD = 64 * 1024;
const LIST = Buffer.from('LIST ');

/** Rewrites the request lines of one connection's byte stream. */
export class ListRewriter {
  private buf: Buffer = Buffer.alloc(0);
  private bodyLeft = 0;
  /** Stopped rewriting: everything passes as it is. */
  done = false;

  rewrite(chunk: Buffer): Buffer {
    if (this.done) return chunk;
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
          this.done = true;
          out.push(data);
        } else this.buf = data;
        break;
      }
      const headBytes = data.subarray(0, end + 4);
      data = data.subarray(end + 4);
      // Only the rare LIST request is copied into a string and rebuilt.
      let head: Buffer = headBytes;
      if (headBytes.subarray(0, 5).equals(LIST)) {
        const text = headBytes.toString('latin1').replace(/^LIST (\S+)/, (_m, target: string) => {
          const sep = target.includes('?') ? '&' : '?';
          return `GET ${target}${sep}list=true`;
        });
        head = Buffer.from(text, 'latin1');
      }
      const headers = headBytes.toString('latin1').toLowerCase();
      if (
        headers.includes('\r\ntransfer-encoding:') ||
        headers.includes('\r\nupgrade:') ||
        headers.startsWith('connect ')
      ) {
        this.done = true;
        out.push(head, data);
        return Buffer.concat(out);
      }
      const cl = headers.indexOf('\r\ncontent-length:');
      this.bodyLeft = cl < 0 ? 0 : Number.parseInt(headers.slice(cl + 17).trimStart(), 10) || 0;
      out.push(head);
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  /** What is left when the connection ends (an incomplete head): passed on as it is. */
  flush(): Buffer {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }
}
