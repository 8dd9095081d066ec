import { type KeyObject, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@stratumiops/shared/log';
import { type RunningServer, startServer } from '../src/server/main.js';
import type { SvaultConfig } from '../src/tool.js';

export const tempDir = (prefix = 'svault-test-') => mkdtempSync(join(tmpdir(), prefix));

/** The example config's `[engines]`: KV v2 at secret/, which most tests use. */
export const SECRET_KV = { kv: { path: 'secret', version: 2 as const, description: '' } };
/** The same mount for a Vault made in-process. */
export const SECRET = { path: 'secret/', type: 'kv', options: { version: '2' } };
export const SECRET_KV_TOML = '[engines]\nkv = { path = "secret", version = 2 }\n';

export interface TestServerOptions {
  /** Engines mounted at init (default: SECRET_KV). */
  engines?: SvaultConfig['engines'];
  dir?: string;
  dev?: boolean;
  bodyLimit?: number;
  audit?: Partial<SvaultConfig['audit']>;
  server?: Partial<SvaultConfig['server']>;
  logger?: Logger;
}

/** A real server on 127.0.0.1, a free port, filesystem storage in a temp dir (or in memory for dev). */
export async function startTestServer(opts: TestServerOptions = {}): Promise<RunningServer & { dir: string }> {
  const dir = opts.dir ?? tempDir();
  const srv = await startServer({
    config: {
      storage: { backend: 'filesystem', filesystem: { path: dir } },
      server: {
        address: '127.0.0.1:0',
        max_request_size: opts.bodyLimit ?? 32 * 1024 * 1024,
        tls_cert: '',
        tls_key: '',
        client_ca: '',
        require_client_cert: false,
        ...opts.server,
      },
      vault: { crypto_backend: 'openssl', cipher: 'aes-256-gcm' },
      engines: opts.engines ?? SECRET_KV,
      ...(opts.audit
        ? {
            audit: {
              enabled: false,
              backend: 'file' as const,
              path: '',
              retention_days: 2555,
              timeout: '3s',
              ...opts.audit,
            },
          }
        : {}),
    },
    ...(opts.dev ? { dev: true } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    tidyIntervalMs: 0,
  });
  return { ...srv, dir };
}

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are checked field by field
  body: any;
  text: string;
  headers: import('node:http').IncomingHttpHeaders;
}

/** A raw HTTP call, as a Vault client makes it; `raw` sends the body bytes as given. */
export function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const url = new URL(base);
  const payload =
    opts.raw !== undefined
      ? Buffer.from(opts.raw)
      : opts.body !== undefined
        ? Buffer.from(JSON.stringify(opts.body))
        : undefined;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['X-Vault-Token'] = opts.token;
  if (payload) {
    headers['Content-Length'] = String(payload.length);
    headers['Content-Type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, text, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** init 5/3 (or as given) and unseal with the first `threshold` keys. */
export async function initAndUnseal(base: string, shares = 5, threshold = 3) {
  const init = await call(base, 'PUT', '/v1/sys/init', {
    body: { secret_shares: shares, secret_threshold: threshold },
  });
  if (init.status !== 200) throw new Error(`init: ${init.status} ${init.text}`);
  const keys = init.body.keys as string[];
  for (const k of keys.slice(0, threshold)) await call(base, 'PUT', '/v1/sys/unseal', { body: { key: k } });
  return { keys, keysB64: init.body.keys_base64 as string[], root: init.body.root_token as string };
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** A JWT signed with node:crypto, as a CI system signs its job tokens (ES*, RS*, EdDSA). */
export function signJwt(claims: Record<string, unknown>, key: KeyObject, alg = 'ES256', kid = 'ci-1'): string {
  const head = `${b64url({ alg, typ: 'JWT', kid })}.${b64url(claims)}`;
  const data = Buffer.from(head);
  const sig =
    alg === 'EdDSA'
      ? sign(null, data, key)
      : alg.startsWith('ES')
        ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', data, key);
  return `${head}.${sig.toString('base64url')}`;
}
