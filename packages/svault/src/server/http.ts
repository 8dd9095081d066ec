import { randomUUID } from 'node:crypto';
import { createHttpServer } from '@stratumiops/shared/http';
import type { Logger } from '@stratumiops/shared/log';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VaultError } from '../core/errors.js';
import { fBool, fInt, parseDuration, parseFields } from '../core/fields.js';
import type { HaStatus } from '../core/ha.js';
import type { HandlerResult, LogicalResponse, Operation } from '../core/logical.js';
import type { Vault } from '../core/vault.js';
import { ResponseWrapper } from '../core/wrapping.js';
import { clientErrorHandler } from './list-verb.js';

export interface HttpOptions {
  vault: Vault;
  /** HA: who is active (sys/leader, and where a standby redirects clients). */
  ha?: { status(): HaStatus };
  /** Largest request body; Vault's default listener limit is 32 MiB. */
  bodyLimit?: number;
  logger?: Logger;
}

const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

/** A Vault error body: `{"errors": [...]}`. */
const errorBody = (errors: string[]) => ({ errors });

/**
 * JSON with Vault's `Content-Type: application/json` (no charset: fastify adds one to any JSON
 * it serializes, and some Vault clients then ignore the body). Sent as bytes, which fastify
 * passes through with the header as set.
 */
function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify(body)));
}

/** Deepest nesting of objects and arrays accepted in a request body. */
export const MAX_JSON_DEPTH = 256;

/**
 * The nesting depth of a JSON text, counted with a loop over its characters (no recursion, no
 * parse): a body nested 10,000 deep is refused before anything walks it recursively.
 * Returns as soon as `limit` is passed.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

/** Whether every '%' of a URL starts a valid escape (decodeURIComponent would accept it). */
function badEscape(url: string): boolean {
  if (!url.includes('%')) return false;
  const q = url.indexOf('?');
  try {
    decodeURIComponent(q < 0 ? url : url.slice(0, q));
    return false;
  } catch {
    return true;
  }
}

/** Requests whose URL had an invalid percent-escape; their URL was made routable, the handler answers 400. */
const BAD_URL = Symbol('svault.badUrl');

/** Vault's envelope for logical responses; `sys/` copies `data` to the top level too. */
function envelope(path: string, res: LogicalResponse, mountType: string | undefined, id = randomUUID()) {
  const body: Record<string, unknown> = {
    request_id: id,
    lease_id: res.lease?.id ?? '',
    renewable: res.lease?.renewable ?? false,
    lease_duration: res.lease?.duration ?? 0,
    data: res.data ?? null,
    wrap_info: res.wrapInfo ?? null,
    warnings: res.warnings?.length ? res.warnings : null,
    auth: res.auth ?? null,
    mount_type: mountType ?? '',
  };
  if (path.startsWith('sys/') && res.data) return { ...res.data, ...body };
  return body;
}

function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers['x-vault-token'];
  if (typeof h === 'string' && h) return h;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return undefined;
}

/** Go's strconv.ParseBool, which Vault uses for `?list=`. */
function parseBool(v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new VaultError('invalid', `invalid value for list parameter: "${v}"`);
}

/** The logical path from the raw URL: segments decoded one by one, so '%2F' cannot forge a separator. */
function logicalPath(rawUrl: string): { path: string; query: URLSearchParams } {
  const q = rawUrl.indexOf('?');
  const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  const rest = pathname.slice('/v1/'.length);
  if (!rest.includes('%')) return { path: rest, query };
  const segs = rest.split('/').map((s) => {
    try {
      const d = decodeURIComponent(s);
      if (d.includes('/')) throw new Error('slash');
      return d;
    } catch {
      throw new VaultError('invalid', 'invalid path: bad escaping');
    }
  });
  return { path: segs.join('/'), query };
}

/**
 * X-Vault-Wrap-TTL: seconds or a duration ("5m"). A bad value is a 400 before anything runs: a
 * client that asked for wrapping never gets the response in the clear.
 */
function wrapTtlOf(req: FastifyRequest): number | undefined {
  const h = req.headers['x-vault-wrap-ttl'];
  const text = Array.isArray(h) ? h.join(',') : h;
  if (text === undefined || text.trim() === '') return undefined;
  const secs = parseDuration(text);
  if (secs === undefined) throw new VaultError('invalid', `error parsing wrap TTL "${text.slice(0, 64)}"`);
  return ResponseWrapper.parseTtl(secs);
}

class BodyError extends Error {}

/** The Vault-compatible API on fastify, with /metrics from the shared server. */
export async function buildHttpServer(opts: HttpOptions): Promise<FastifyInstance> {
  const { app, registry } = await createHttpServer({
    name: 'svault',
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(opts.logger ? { logger: opts.logger } : {}),
    clientErrorHandler,
  });
  registerVaultApi(app, { ...opts, registry });
  return app;
}

export interface ApiOptions {
  vault: Vault;
  ha?: { status(): HaStatus };
  logger?: Logger;
  /** Serves /v1/sys/metrics when given (the shared server's Prometheus registry). */
  registry?: { contentType: string; metrics(): Promise<string> };
}

/** Adds Vault's routes under /v1 to an app (the HTTP server's, or the daemon's on its unix socket). */
export function registerVaultApi(app: FastifyInstance, opts: ApiOptions): void {
  const { vault, registry } = opts;

  // Vault reads every body as JSON whatever the Content-Type says; clients often send none.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      return done(new BodyError(`failed to parse JSON input: nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new BodyError(`failed to parse JSON input: ${(e as Error).message}`), undefined);
    }
  });

  // An invalid percent-escape would make fastify's router answer in its own error format, before
  // any hook or handler of ours. The URL is made routable here ('%' escaped) and remembered; the
  // handler then answers Vault's 400.
  app.server.prependListener('request', (req: import('node:http').IncomingMessage) => {
    if (req.url && badEscape(req.url)) {
      (req as unknown as Record<symbol, boolean>)[BAD_URL] = true;
      req.url = req.url.replace(/%(?![0-9A-Fa-f]{2})/g, '%25');
      if (badEscape(req.url)) req.url = '/v1/';
    }
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err instanceof VaultError) {
      if (err.status >= 500) opts.logger?.error({ err: err.message, path: req.routeOptions.url }, 'internal error');
      if (err.body) return sendJson(reply, err.status, envelope('', err.body as LogicalResponse, undefined));
      return sendJson(reply, err.status, errorBody(err.errors));
    }
    if (err instanceof BodyError) return sendJson(reply, 400, errorBody([err.message]));
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendJson(reply, 413, errorBody(['http: request body too large']));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendJson(reply, err.statusCode, errorBody([err.message]));
    }
    opts.logger?.error({ err: err.message, url: req.routeOptions.url }, 'internal error');
    return sendJson(reply, 500, errorBody(['internal error']));
  });
  app.setNotFoundHandler((req, reply) =>
    (req.raw as unknown as Record<symbol, boolean>)[BAD_URL]
      ? sendJson(reply, 400, errorBody(['invalid URL escape in the request path']))
      : sendJson(reply, 404, errorBody([])),
  );

  const bodyOf = (req: FastifyRequest): Record<string, unknown> => {
    const b = req.body;
    if (b === undefined || b === null) return {};
    if (typeof b !== 'object' || Array.isArray(b))
      throw new VaultError('invalid', 'request body must be a JSON object');
    return b as Record<string, unknown>;
  };

  // --- sys endpoints that work while sealed ---
  app.get('/v1/sys/init', async () => ({ initialized: await vault.initialized() }));
  const init = async (req: FastifyRequest) => {
    const f = parseFields({ secret_shares: fInt(), secret_threshold: fInt() }, bodyOf(req));
    const body = bodyOf(req);
    if (body.pgp_keys !== undefined && body.pgp_keys !== null && !Array.isArray(body.pgp_keys)) {
      throw new VaultError('invalid', 'pgp_keys must be a list of base64-encoded public keys');
    }
    if (f.secret_shares === undefined || f.secret_threshold === undefined) {
      throw new VaultError('invalid', 'secret_shares and secret_threshold are required');
    }
    return vault.init(f.secret_shares as number, f.secret_threshold as number, {
      ...(Array.isArray(body.pgp_keys) ? { keys: body.pgp_keys } : {}),
      ...(body.root_token_pgp_key ? { rootKey: body.root_token_pgp_key } : {}),
    });
  };
  app.put('/v1/sys/init', init);
  app.post('/v1/sys/init', init);

  app.get('/v1/sys/seal-status', async () => vault.status());
  const unseal = async (req: FastifyRequest) => {
    const body = bodyOf(req);
    const f = parseFields({ reset: fBool() }, body);
    if (body.key !== undefined && typeof body.key !== 'string') {
      throw new VaultError('invalid', 'error converting input for field "key": expected a string');
    }
    return vault.unseal(body.key as string | undefined, f.reset === true);
  };
  app.put('/v1/sys/unseal', unseal);
  app.post('/v1/sys/unseal', unseal);

  const seal = async (req: FastifyRequest, reply: FastifyReply) => {
    await vault.sealWithToken(tokenOf(req), req.ip);
    return reply.code(204).send();
  };
  app.put('/v1/sys/seal', seal);
  app.post('/v1/sys/seal', seal);

  // Operator procedures with unseal keys (no token, as in Vault): a new root token, new unseal keys.
  // Each: GET the status, PUT/POST to start, DELETE to cancel, PUT/POST an unseal key with the nonce.
  const ceremony = (
    attemptUrl: string,
    updateUrl: string,
    ops: {
      status(): Record<string, unknown>;
      start(body: Record<string, unknown>): Record<string, unknown> | Promise<Record<string, unknown>>;
      cancel(): void;
      update(key: unknown, nonce: unknown): Promise<Record<string, unknown>>;
    },
  ) => {
    app.get(attemptUrl, async () => {
      if (vault.sealed) throw new VaultError('sealed', 'Vault is sealed');
      return ops.status();
    });
    const start = async (req: FastifyRequest) => ops.start(bodyOf(req));
    app.put(attemptUrl, start);
    app.post(attemptUrl, start);
    app.delete(attemptUrl, async (_req, reply) => {
      ops.cancel();
      return reply.code(204).send();
    });
    const update = async (req: FastifyRequest) => ops.update(bodyOf(req).key, bodyOf(req).nonce);
    app.put(updateUrl, update);
    app.post(updateUrl, update);
  };
  ceremony('/v1/sys/generate-root/attempt', '/v1/sys/generate-root/update', {
    status: () => vault.generateRootStatus(),
    start: (b) => vault.generateRootStart(b),
    cancel: () => vault.generateRootCancel(),
    update: (k, n) => vault.generateRootUpdate(k, n),
  });
  ceremony('/v1/sys/rekey/init', '/v1/sys/rekey/update', {
    status: () => vault.rekeyStatus(),
    start: (b) => vault.rekeyStart(b),
    cancel: () => vault.rekeyCancel(),
    update: (k, n) => vault.rekeyUpdate(k, n),
  });

  const health = async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.query as Record<string, string | undefined>;
    const st = await vault.status();
    const code = (name: string, dflt: number) => {
      const v = q[name];
      return v !== undefined && /^\d{3}$/.test(v) ? Number(v) : dflt;
    };
    const standby = !st.sealed && vault.standby;
    const status = !st.initialized
      ? code('uninitcode', 501)
      : st.sealed
        ? code('sealedcode', 503)
        : standby && q.standbyok !== 'true'
          ? code('standbycode', 429)
          : code('activecode', 200);
    const body = {
      initialized: st.initialized,
      sealed: st.sealed,
      standby,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(Date.now() / 1000),
      version: st.version,
      ...(st.cluster_name ? { cluster_name: st.cluster_name, cluster_id: st.cluster_id } : {}),
    };
    reply.code(status);
    return req.method === 'HEAD' ? reply.send() : reply.send(body);
  };
  app.route({ method: ['GET', 'HEAD'], url: '/v1/sys/health', handler: health, exposeHeadRoute: false });

  // Unauthenticated, as in Vault; without HA it says so.
  app.get('/v1/sys/leader', async () => {
    const ha = opts.ha?.status();
    if (ha && vault.sealed) throw new VaultError('sealed', 'Vault is sealed');
    return {
      ha_enabled: ha !== undefined,
      is_self: ha?.isSelf ?? false,
      active_time: ha?.activeTime ?? '0001-01-01T00:00:00Z',
      leader_address: ha?.leaderAddress ?? '',
      leader_cluster_address: '',
      performance_standby: false,
      performance_standby_last_remote_wal: 0,
    };
  });

  if (registry) {
    app.get('/v1/sys/metrics', async (req, reply) => {
      await vault.authenticate(tokenOf(req));
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    });
  }

  // --- everything else: one logical request each ---
  const logical = async (req: FastifyRequest, reply: FastifyReply) => {
    // A standby sends clients to the active node, as Vault does without request forwarding; while
    // no active node is known, vault.handle answers 503.
    const leader = vault.standby && !vault.sealed ? opts.ha?.status().leaderAddress : undefined;
    if (leader)
      return reply
        .code(307)
        .header('location', `${leader.replace(/\/+$/, '')}${req.raw.url}`)
        .send();
    if ((req.raw as unknown as Record<symbol, boolean>)[BAD_URL]) {
      throw new VaultError('invalid', 'invalid URL escape in the request path');
    }
    const wrapTtl = wrapTtlOf(req);
    const { path: rawPath, query } = logicalPath(req.raw.url ?? '');
    let operation: Operation;
    let data: Record<string, unknown> = {};
    let path = rawPath;
    const help = query.get('help');
    if (req.method === 'GET' && help !== null && parseBool(help)) {
      return sendJson(reply, 200, { help: await vault.help(path, tokenOf(req), req.ip) });
    }
    switch (req.method) {
      case 'GET': {
        const list = query.get('list');
        operation = list !== null && parseBool(list) ? 'list' : 'read';
        for (const [k, v] of query) if (k !== 'list') data[k] = v;
        if (operation === 'list' && !path.endsWith('/')) path += '/';
        break;
      }
      case 'POST':
      case 'PUT':
        operation = 'update';
        data = bodyOf(req);
        break;
      case 'PATCH':
        operation = 'patch';
        data = bodyOf(req);
        break;
      case 'DELETE':
        operation = 'delete';
        for (const [k, v] of query) data[k] = v;
        break;
      default:
        throw new VaultError('unsupported', 'unsupported operation');
    }
    const id = randomUUID();
    const result: HandlerResult = await vault.handle({
      operation,
      path,
      data,
      token: tokenOf(req),
      remoteAddress: req.ip,
      id,
      ...(wrapTtl ? { wrapTtl } : {}),
    });
    if (result === null) return sendJson(reply, 404, errorBody([]));
    if (result === undefined) return reply.code(204).send();
    const mountType = vault.mountTypeOf(path);
    const raw = result.data;
    if (
      !result.wrapInfo &&
      mountType === 'pki' &&
      typeof raw?.http_content_type === 'string' &&
      typeof raw.http_raw_body === 'string'
    ) {
      // Vault's raw responses (pki/ca, pki/crl...): the body as is (base64 in the logical response).
      const status = Number(raw.http_status_code ?? 200);
      reply.code(status).header('content-type', raw.http_content_type);
      return status === 204 ? reply.send() : reply.send(Buffer.from(raw.http_raw_body, 'base64'));
    }
    return sendJson(reply, result.wrapInfo ? 200 : (result.status ?? 200), envelope(path, result, mountType, id));
  };
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v1/*', handler: logical });
}
