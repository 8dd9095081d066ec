/**
 * The one MCP scaffold of the tools (official SDK): tool results and errors, a guard that turns any thrown error
 * into an `isError` result (never a crash, never a stack), and the two ways to serve: stdio (the default) and
 * Streamable HTTP behind a bearer token. Both answer malformed or invalid JSON-RPC as JSON-RPC 2.0 says instead of
 * dropping it (a client waiting on an id must always get a reply). stdout belongs to JSON-RPC: a tool's server
 * never writes anything else there.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolResult,
  ClientRequestSchema,
  ErrorCode,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { StratumError, usageError } from './errors.js';

export type ToolResult = CallToolResult;

export function toolResult(text: string, structured?: Record<string, unknown>): ToolResult {
  return { content: [{ type: 'text', text }], ...(structured ? { structuredContent: structured } : {}) };
}

/** Any failure as an MCP tool error: message and hint. */
export function toolError(e: unknown): ToolResult {
  const msg =
    e instanceof StratumError
      ? `${e.message}${e.hint ? ` (${e.hint})` : ''}`
      : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
  return { isError: true, content: [{ type: 'text', text: msg }] };
}

/** A tool handler whose failures become tool errors; `extra` (progress token, notifications) is passed on. */
export function guard<A, E = unknown>(
  fn: (args: A, extra: E) => Promise<ToolResult>,
): (args: A, extra: E) => Promise<ToolResult> {
  return async (args: A, extra: E) => {
    try {
      return await fn(args, extra);
    } catch (e) {
      return toolError(e);
    }
  };
}

/** Tool annotations for read-only and writing tools. */
export const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;
export const WRITES = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
} as const;

/** A JSON-RPC error response; `id` is null when the request's id could not be read (JSON-RPC 2.0 §5). */
export interface JsonRpcErrorReply {
  jsonrpc: '2.0';
  id: string | number | null;
  error: { code: number; message: string };
}

/** What to do with one incoming JSON value: pass the message on, or answer with an error (or nothing). */
export type Checked = { message: JSONRPCMessage } | { reply: JsonRpcErrorReply | JsonRpcErrorReply[] | undefined };

const errorReply = (id: string | number | null, code: number, message: string): JsonRpcErrorReply => ({
  jsonrpc: '2.0',
  id,
  error: { code, message },
});

/** The request schema of every method a client may call, to check params before the SDK sees them. */
let requestSchemas: Map<string, (typeof ClientRequestSchema.options)[number]> | undefined;
const schemaFor = (method: string) => {
  requestSchemas ??= new Map(ClientRequestSchema.options.map((o) => [o.shape.method.value as string, o]));
  return requestSchemas.get(method);
};

/** zod issues as one line: `params.arguments: expected record, received string; ...`. */
function oneLine(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map(
      (i) => `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message.replace(/^Invalid input: /, '')}`,
    )
    .join('; ')
    .replace(/\s+/g, ' ');
}

/**
 * Checks one parsed JSON value as a JSON-RPC 2.0 message for an MCP server. Batches are refused (MCP dropped them
 * in 2025-06-18), each element answered; a structurally invalid message is -32600, params of the wrong shape for
 * a known method -32602, with a one-line message. Notifications never get an answer, valid or not.
 */
export function checkMessage(raw: unknown): Checked {
  if (Array.isArray(raw)) {
    if (raw.length === 0) return { reply: errorReply(null, ErrorCode.InvalidRequest, 'Invalid Request: empty batch') };
    const replies = raw.map((m) =>
      errorReply(
        readId(m),
        ErrorCode.InvalidRequest,
        'Invalid Request: batches are not supported; send one message at a time',
      ),
    );
    return { reply: replies };
  }
  if (raw === null || typeof raw !== 'object')
    return { reply: errorReply(null, ErrorCode.InvalidRequest, 'Invalid Request: a message must be a JSON object') };
  const m = raw as Record<string, unknown>;
  const id = readId(m);
  const invalid = (why: string): Checked => ({
    reply: errorReply(id, ErrorCode.InvalidRequest, `Invalid Request: ${why}`),
  });
  if (m.jsonrpc !== '2.0') return invalid('jsonrpc must be "2.0"');
  if ('id' in m && id === null) return invalid('id must be a string or a number');
  if ('method' in m) {
    if (typeof m.method !== 'string') return invalid('method must be a string');
    if ('params' in m && (m.params === null || typeof m.params !== 'object'))
      return invalid('params must be an object');
    const isRequest = 'id' in m;
    if (Array.isArray(m.params))
      return isRequest
        ? { reply: errorReply(id, ErrorCode.InvalidParams, `Invalid params for ${m.method}: expected an object`) }
        : { reply: undefined };
    const schema = schemaFor(m.method);
    if (isRequest && schema) {
      const r = schema.safeParse({ method: m.method, params: m.params });
      if (!r.success)
        return {
          reply: errorReply(id, ErrorCode.InvalidParams, `Invalid params for ${m.method}: ${oneLine(r.error.issues)}`),
        };
    }
  }
  const r = JSONRPCMessageSchema.safeParse(m);
  if (!r.success) return 'method' in m && !('id' in m) ? { reply: undefined } : invalid(oneLine(r.error.issues));
  return { message: r.data };
}

function readId(m: unknown): string | number | null {
  const id = m && typeof m === 'object' ? (m as { id?: unknown }).id : undefined;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

/** Parses and checks one message's text: invalid JSON is -32700. */
export function checkText(text: string): Checked {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { reply: errorReply(null, ErrorCode.ParseError, 'Parse error: invalid JSON') };
  }
  return checkMessage(raw);
}

/** The SDK reports a tool's invalid arguments with one line per zod issue; one line reads better in a tool result. */
function tidyOutgoing(message: JSONRPCMessage): JSONRPCMessage {
  const result = (message as { result?: CallToolResult }).result;
  const first = result?.isError ? result.content?.[0] : undefined;
  if (
    first?.type === 'text' &&
    first.text.includes('\n') &&
    first.text.startsWith(`MCP error ${ErrorCode.InvalidParams}`)
  )
    first.text = first.text.replace(/\s*\n\s*/g, '; ');
  return message;
}

/** Largest message accepted on either transport (the SDK's default for HTTP). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Newline-delimited JSON-RPC on stdin/stdout (the MCP stdio transport) that answers what the SDK's would drop:
 * invalid JSON, batches, invalid messages and over-long lines.
 */
export class CheckedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  private closed = false;

  constructor(
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly maxBytes = MAX_MESSAGE_BYTES,
  ) {}

  private readonly onData = (chunk: Buffer) => {
    let rest = chunk;
    for (let nl = rest.indexOf(10); nl !== -1; nl = rest.indexOf(10)) {
      const part = rest.subarray(0, nl);
      rest = rest.subarray(nl + 1);
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      const line = this.pending.length ? Buffer.concat([...this.pending, part]) : part;
      this.pending = [];
      this.pendingBytes = 0;
      this.handleLine(line.toString('utf8'));
    }
    if (this.skipping || rest.length === 0) return;
    this.pending.push(rest);
    this.pendingBytes += rest.length;
    if (this.pendingBytes > this.maxBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = true;
      void this.send(
        errorReply(
          null,
          ErrorCode.InvalidRequest,
          `Invalid Request: message over ${this.maxBytes} bytes`,
        ) as JSONRPCMessage,
      );
    }
  };
  private readonly onEnd = () => void this.close();
  private readonly onError = (e: Error) => this.onerror?.(e);

  private handleLine(line: string) {
    if (!line.trim()) return;
    const c = checkText(line);
    if ('message' in c) this.onmessage?.(c.message);
    else if (c.reply) void this.send(c.reply as unknown as JSONRPCMessage);
  }

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('end', this.onEnd);
    this.stdin.on('error', this.onError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(tidyOutgoing(message))}\n`)) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd);
    this.stdin.off('error', this.onError);
    this.stdin.pause();
    this.onclose?.();
  }
}

/** Serves `server` on stdio until the client disconnects. */
export async function serveStdio(server: McpServer): Promise<void> {
  const transport = new CheckedStdioTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  await server.connect(transport); // connect() chains its onclose before ours
  await closed;
  await server.close().catch(() => {});
}

export interface McpHttpOptions {
  /** Interface to listen on; loopback unless asked otherwise (then the Host header is not checked). */
  host?: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  /** Every request must carry `Authorization: Bearer <token>`; an empty token is refused (fail closed). */
  token: string;
  /** Endpoint path (default /mcp). */
  path?: string;
  /** Most sessions at once (default 64); a new one then closes the one left unused longest. */
  maxSessions?: number;
}

export interface McpHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Serves MCP over Streamable HTTP (the SDK's StreamableHTTPServerTransport, one session per client, each with its
 * own server from `createServer`). Bearer token required on every request, compared in constant time; invalid
 * JSON-RPC is answered like on stdio.
 */
export async function serveHttp(createServer: () => McpServer, opts: McpHttpOptions): Promise<McpHttpServer> {
  if (!opts.token) throw new StratumError('usage', 'an MCP HTTP server needs a bearer token', { hint: 'set a token' });
  const [{ createServer: createHttp }, { StreamableHTTPServerTransport }, { isInitializeRequest }] = await Promise.all([
    import('node:http'),
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  const host = opts.host ?? '127.0.0.1';
  const path = opts.path ?? '/mcp';
  const maxSessions = opts.maxSessions ?? 64;
  const tokenHash = createHash('sha256').update(opts.token).digest();
  const authorized = (req: IncomingMessage) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return (
      !!m &&
      timingSafeEqual(
        createHash('sha256')
          .update(m[1] as string)
          .digest(),
        tokenHash,
      )
    );
  };
  type Session = { transport: InstanceType<typeof StreamableHTTPServerTransport>; server: McpServer; used: number };
  const sessions = new Map<string, Session>();
  let port = opts.port;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };

  const openSession = async (): Promise<Session> => {
    const transport: Session['transport'] = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, session),
      ...(LOOPBACK.has(host)
        ? {
            enableDnsRebindingProtection: true,
            allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`],
          }
        : {}),
    });
    const server = createServer();
    const session: Session = { transport, server, used: Date.now() };
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    const send = transport.send.bind(transport);
    transport.send = (m, o) => send(tidyOutgoing(m), o);
    await server.connect(transport);
    return session;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path)
      return json(res, 404, { error: `not found; MCP is at ${path}` });
    if (!authorized(req))
      return json(
        res,
        401,
        { error: 'unauthorized: send Authorization: Bearer <token>' },
        { 'www-authenticate': 'Bearer' },
      );
    const sid = req.headers['mcp-session-id'];
    const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (sid !== undefined && !existing) return json(res, 404, errorReply(null, -32001, 'Session not found'));
    if (req.method !== 'POST') {
      if (!existing)
        return json(res, 400, errorReply(null, ErrorCode.InvalidRequest, 'Bad Request: no session; initialize first'));
      existing.used = Date.now();
      return existing.transport.handleRequest(req, res);
    }
    const body = await readBody(req, MAX_MESSAGE_BYTES);
    if (body === undefined)
      return json(
        res,
        413,
        errorReply(null, ErrorCode.InvalidRequest, `Invalid Request: message over ${MAX_MESSAGE_BYTES} bytes`),
      );
    const c = checkText(body);
    if (!('message' in c)) return c.reply ? json(res, 400, c.reply) : void res.writeHead(202).end();
    let session = existing;
    if (!session) {
      if (!isInitializeRequest(c.message))
        return json(
          res,
          400,
          errorReply(readId(c.message), ErrorCode.InvalidRequest, 'Bad Request: no session; initialize first'),
        );
      // Clients that never close their session must not lock others out: the longest unused one goes.
      while (sessions.size >= maxSessions) {
        const [sid, oldest] = [...sessions.entries()].reduce((a, b) => (b[1].used < a[1].used ? b : a));
        sessions.delete(sid);
        await oldest.server.close().catch(() => {});
      }
      session = await openSession();
    }
    session.used = Date.now();
    await session.transport.handleRequest(req, res, c.message);
  };

  const http = createHttp((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, errorReply(null, ErrorCode.InternalError, (e as Error).message));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, host, () => resolve());
  });
  port = (http.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    port,
    close: async () => {
      for (const s of sessions.values()) await s.server.close().catch(() => {});
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** What an `--http [host:]port` flag asks for: host 127.0.0.1 unless given (IPv6 in brackets), port 0 picks one. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw usageError(`--http '${value}' is not [host:]port`, { hint: 'e.g. --http 8765' });
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/** The bearer token for `--http` from an environment variable: a usage error naming it when unset (fail closed). */
export function tokenFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const token = env[name];
  if (!token)
    throw usageError(`--http needs a bearer token in $${name}`, { hint: `export ${name}=$(openssl rand -hex 24)` });
  return token;
}

/** Serves MCP over HTTP until SIGINT or SIGTERM; the URL is printed on stdout once listening. */
export async function serveHttpUntilSignal(createServer: () => McpServer, opts: McpHttpOptions): Promise<void> {
  const server = await serveHttp(createServer, opts);
  process.stdout.write(`${server.url}\n`);
  await new Promise<void>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve());
  });
  await server.close();
}

/** The request body as text, or undefined when it is over `limit` bytes (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] | undefined = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) chunks = undefined;
      else chunks?.push(c);
    });
    req.on('end', () => resolve(chunks && Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
