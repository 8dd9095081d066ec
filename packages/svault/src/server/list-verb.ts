import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Vault clients may list with the `LIST` HTTP verb, which Node's HTTP parser rejects before any
 * framework sees the request (HPE_INVALID_METHOD, a 'clientError'). Such a request is answered
 * from the error: its bytes (the error's `rawPacket` from `LIST` on, plus later chunks, which
 * the stopped parser keeps reporting the same way) are read as a request, sent through the app as
 * `GET <path>?list=true` (Vault treats both the same) with fastify's `inject`, and the answer is
 * written to the socket with `Connection: close`, since that connection's parser has stopped.
 *
 * Every other request keeps Node's native parser. (Rewriting every connection's bytes in
 * JavaScript, so that a LIST could be turned into a GET before the parser saw it, cost about a
 * quarter of a KV read.)
 */
export function clientErrorHandler(this: FastifyInstance, err: ClientError, socket: Socket): void {
  const state = listRequests.get(socket);
  if (state === 'answering') return; // the stopped parser reporting what follows: ignore it
  const raw = err.rawPacket ?? Buffer.alloc(0);
  let bytes: Buffer;
  if (state === undefined) {
    const start = listRequestStart(err);
    if (start < 0) {
      rejectClientError(err, socket);
      return;
    }
    bytes = raw.subarray(start);
  } else bytes = Buffer.concat([state, raw]);
  const req = parseHead(bytes);
  if (req === 'incomplete') {
    if (bytes.length > MAX_HEAD) rejectClientError(Object.assign(err, { code: 'HPE_HEADER_OVERFLOW' }), socket);
    else listRequests.set(socket, bytes);
    return;
  }
  listRequests.set(socket, 'answering');
  if (req === 'invalid') rejectClientError(err, socket);
  else void answer(this, req, socket);
}

export interface ClientError extends Error {
  code?: string;
  rawPacket?: Buffer;
  bytesParsed?: number;
}

const MAX_HEAD = 64 * 1024;
/** A connection whose LIST request is being read (its bytes so far) or answered. */
const listRequests = new WeakMap<Socket, Buffer | 'answering'>();

/** Where the request that made the parser stop starts, when it may be a LIST; else -1. */
function listRequestStart(err: ClientError): number {
  const raw = err.rawPacket;
  if (err.code !== 'HPE_INVALID_METHOD' || !raw) return -1;
  // The parser stops inside the method: the request starts at the 'L' at or before that point.
  const at = raw.lastIndexOf('L', Math.min(err.bytesParsed ?? 0, raw.length - 1));
  return at >= 0 && 'LIST '.startsWith(raw.subarray(at, at + 5).toString('latin1')) ? at : -1;
}

interface ListRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The LIST request at the start of `bytes`, as a GET with list=true. */
function parseHead(bytes: Buffer): ListRequest | 'incomplete' | 'invalid' {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return 'incomplete';
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^LIST (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? '');
  if (!m) return 'invalid';
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return 'invalid';
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  if (headers['transfer-encoding']) return 'invalid';
  const length = Number(headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0) return 'invalid';
  const body = bytes.subarray(end + 4, end + 4 + length);
  if (body.length < length) return 'incomplete';
  const target = m[1] as string;
  return { url: `${target}${target.includes('?') ? '&' : '?'}list=true`, headers, body };
}

async function answer(app: FastifyInstance, req: ListRequest, socket: Socket): Promise<void> {
  try {
    const res = await app.inject({
      method: 'GET',
      url: req.url,
      headers: req.headers,
      ...(req.body.length > 0 ? { payload: req.body } : {}),
      ...(socket.remoteAddress ? { remoteAddress: socket.remoteAddress } : {}),
    });
    const skip = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);
    let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
    for (const [name, value] of Object.entries(res.headers)) {
      if (skip.has(name) || value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`;
    }
    head += `content-length: ${res.rawPayload.length}\r\nconnection: close\r\n\r\n`;
    // After the answers to requests sent before it on this connection (pipelining).
    const inFlight = (socket as Socket & { _httpMessage?: NodeJS.EventEmitter | null })._httpMessage;
    const send = () => socket.end(Buffer.concat([Buffer.from(head, 'latin1'), res.rawPayload]));
    if (inFlight) inFlight.once('finish', send);
    else send();
  } catch {
    socket.destroy();
  }
}

const STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** What fastify does by default with a bad request: an answer where one can still be written, then close. */
function rejectClientError(err: ClientError, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status = STATUS[err.code ?? ''] ?? '400 Bad Request';
  const body = JSON.stringify({ errors: [status.slice(4)] });
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
