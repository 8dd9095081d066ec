import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { validationError } from '@stratumiops/shared/errors';
import type { Logger } from '@stratumiops/shared/log';
import type { FastifyInstance } from 'fastify';
import { FileAuditSink } from '../adapters/audit-file.js';
import { FilesystemStorage } from '../adapters/filesystem.js';
import { MemoryStorage } from '../adapters/memory.js';
import { storagePath } from '../cli/local.js';
import type { AuditSettings } from '../core/audit.js';
import { CachedStorage } from '../core/cache.js';
import { CryptoSuite } from '../core/crypto.js';
import type { DatabasePlugins } from '../core/engines/database/plugin.js';
import { type MountConfigIn, normalizeMountPath } from '../core/engines/system.js';
import { invalid } from '../core/errors.js';
import { parseDuration, parseDurationMs } from '../core/fields.js';
import { HaCoordinator, type HaStorage } from '../core/ha.js';
import type { Storage } from '../core/storage.js';
import { type MountSpec, Vault, validateMountSpecs } from '../core/vault.js';
import type { SvaultConfig } from '../tool.js';

export { storagePath };

import { buildHttpServer } from './http.js';

export interface RunningServer {
  app: FastifyInstance;
  vault: Vault;
  /** http(s)://host:port */
  address: string;
  /** TLS on, and what it asks of clients. */
  tls: { enabled: boolean; clientCerts: 'required' | 'verified-if-presented' | 'not-requested' };
  /** Dev mode only: the unseal key and root token. */
  dev?: { unsealKey: string; rootToken: string };
  /** Stops listening, seals, syncs storage. */
  close(): Promise<void>;
  /** What close() does after the app is closed (for a shutdown hook that closes the app itself). */
  release(): Promise<void>;
}

export interface StartOptions {
  config: Pick<SvaultConfig, 'storage' | 'server' | 'vault'> & Partial<Pick<SvaultConfig, 'audit' | 'api_addr'>>;
  /** In-memory storage, initialized and unsealed (`server -dev`). */
  dev?: boolean;
  /** host:port; overrides config.server.address (port 0 picks a free one). */
  address?: string;
  logger?: Logger;
  tidyIntervalMs?: number;
}

/**
 * The configured backend, connected (a wrong URL or endpoint fails here). The PostgreSQL and etcd
 * drivers load only when used. With `ha_enabled` the backend carries the HA lock.
 */
export async function openStorage(cfg: SvaultConfig['storage'], logger?: Logger): Promise<Storage & HaStorage> {
  switch (cfg.backend) {
    case 'filesystem': {
      // Opened (locked, journals replayed) now: a directory another process holds fails the start.
      const storage = new FilesystemStorage(storagePath(cfg), logger ? { onWarning: (m) => logger.error(m) } : {});
      await storage.open();
      return storage;
    }
    case 'postgresql': {
      const { PostgresStorage } = await import('../adapters/postgresql.js');
      const pg = cfg.postgresql;
      const storage = new PostgresStorage({
        connectionUrl: pg.connection_url,
        table: pg.table,
        haTable: pg.ha_table,
        haEnabled: pg.ha_enabled,
        maxParallel: pg.max_parallel,
      });
      await storage.open().catch(async (err) => {
        await storage.close();
        throw err;
      });
      return storage;
    }
    case 'etcd': {
      const { EtcdStorage } = await import('../adapters/etcd.js');
      const e = cfg.etcd;
      const storage = new EtcdStorage({
        endpoints: e.endpoints,
        prefix: e.prefix,
        haEnabled: e.ha_enabled,
        ...(e.username ? { username: e.username, password: e.password } : {}),
      });
      await storage.open().catch(async (err) => {
        await storage.close();
        throw err;
      });
      return storage;
    }
    default:
      throw new Error(`storage backend "${cfg.backend}" is not available yet; use filesystem, postgresql or etcd`);
  }
}

export type VaultConfig = Pick<SvaultConfig, 'storage' | 'vault'> &
  Partial<Pick<SvaultConfig, 'audit' | 'api_addr' | 'engines'>>;

/**
 * What init mounts: the `[engines]` table, exactly; `--dev` adds KV v2 at secret/ as Vault's dev
 * mode does. A bad entry stops the server at start (before anything is stored).
 */
export function engineMounts(engines: SvaultConfig['engines'] | undefined, dev: boolean): MountSpec[] {
  const out: MountSpec[] = dev
    ? [{ path: 'secret/', type: 'kv', options: { version: '2' }, description: 'key/value secret storage' }]
    : [];
  for (const [name, e] of Object.entries(engines ?? {})) {
    const where = `[engines] ${name}`;
    const type = e.type ?? name;
    if (e.version !== undefined && type !== 'kv') throw validationError(`${where}: version applies to kv only`);
    const config: MountConfigIn = {};
    for (const k of ['default_lease_ttl', 'max_lease_ttl'] as const) {
      const v = e[k];
      if (v === undefined) continue;
      const secs = parseDuration(v);
      if (secs === undefined) throw validationError(`${where}: invalid ${k} "${v}" (a duration like "87600h")`);
      config[k] = secs;
    }
    let path: string;
    try {
      path = normalizeMountPath(e.path.replace(/^\/+/, ''));
    } catch (err) {
      throw validationError(`${where}: ${(err as Error).message}`);
    }
    if (dev && path === 'secret/') continue;
    out.push({
      path,
      type,
      description: e.description,
      options: type === 'kv' ? { version: String(e.version ?? 2) } : {},
      config,
    });
  }
  try {
    validateMountSpecs(out);
  } catch (err) {
    throw validationError(`[engines]: ${(err as Error).message}`);
  }
  return out;
}

/** The database engine's plugins, by Vault's plugin_name and short aliases; the driver loads on first use. */
const loadPostgresql = async () => (await import('../adapters/database-postgresql.js')).postgresqlPlugin;
const DATABASE_PLUGINS: DatabasePlugins = {
  'postgresql-database-plugin': loadPostgresql,
  postgresql: loadPostgresql,
  postgres: loadPostgresql,
};

/**
 * The vault over its storage, as the config says (the HTTP server and the local daemon share this).
 * With an HA backend the node starts as a standby and becomes active once unsealed and holding
 * the lock (`ha`).
 */
export async function createVault(
  config: VaultConfig,
  opts: { dev?: boolean; logger?: Logger; tidyIntervalMs?: number } = {},
): Promise<{ vault: Vault; storage: Storage; ha?: HaCoordinator }> {
  // Checked before the storage is opened: a bad [engines] table leaves nothing behind.
  const mounts = engineMounts(config.engines, opts.dev === true);
  const backend = opts.dev ? undefined : await openStorage(config.storage, opts.logger);
  const cache = backend ? new CachedStorage(backend) : undefined;
  const storage: Storage = cache ?? new MemoryStorage();
  const suite = await CryptoSuite.create(config.vault.crypto_backend, config.vault.cipher);
  const logger = opts.logger;
  const vault = new Vault({
    storage,
    suite,
    mounts,
    tidyIntervalMs: opts.tidyIntervalMs ?? 60_000,
    audit: auditSettings(config.audit),
    databasePlugins: DATABASE_PLUGINS,
    ...(logger ? { onWarning: (m: string) => logger.warn(m) } : {}),
  });
  if (!backend?.ha) return { vault, storage };
  const ha = new HaCoordinator({
    lock: backend.ha,
    vault,
    id: randomUUID(),
    apiAddr: config.api_addr ?? '',
    setCaching: (on) => {
      if (cache) cache.enabled = on;
    },
    ...(logger ? { log: { info: (m: string) => logger.info(m), warn: (m: string) => logger.warn(m) } } : {}),
  });
  await ha.start();
  return { vault, storage, ha };
}

/** Audit device types this server offers, with the defaults of `[audit]`. */
export function auditSettings(cfg?: SvaultConfig['audit']): AuditSettings {
  const retention = cfg?.retention_days ?? 2555;
  const timeoutMs = parseDurationMs(cfg?.timeout ?? '3s');
  if (!timeoutMs) throw new Error(`invalid [audit] timeout "${cfg?.timeout}": expected a duration like "3s"`);
  if (cfg?.enabled && !cfg.path) throw new Error('[audit] enabled = true needs path = "<audit log file>"');
  return {
    sinks: {
      file: (o) => {
        const file = o.file_path ?? o.path;
        if (!file) throw invalid('the file audit device needs option file_path');
        const days = o.retention_days === undefined ? retention : Number(o.retention_days);
        if (!Number.isInteger(days) || days < 0) throw invalid('retention_days must be a whole number of days');
        return new FileAuditSink(file, { retentionDays: days });
      },
    },
    timeoutMs,
    ...(cfg?.enabled
      ? { configDevice: { path: 'file/', type: 'file', options: { file_path: resolve(cfg.path) } } }
      : {}),
  };
}

export function parseAddress(addr: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(addr.trim());
  if (!m) throw new Error(`invalid listen address "${addr}": expected host:port`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Builds the vault and its HTTP API and starts listening. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const { vault, storage, ha } = await createVault(opts.config, {
    ...(opts.dev ? { dev: true } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.tidyIntervalMs !== undefined ? { tidyIntervalMs: opts.tidyIntervalMs } : {}),
  });
  let dev: RunningServer['dev'];
  if (opts.dev) {
    const init = await vault.init(1, 1);
    await vault.unseal(init.keys[0] as string);
    dev = { unsealKey: init.keys_base64[0] as string, rootToken: init.root_token };
  }
  const app = await buildHttpServer({
    vault,
    ...(ha ? { ha } : {}),
    bodyLimit: opts.config.server.max_request_size,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const { host, port } = parseAddress(opts.address ?? opts.config.server.address);
  const server = opts.config.server;
  let address: string;
  let closeListener = async () => {};
  let tls: RunningServer['tls'] = { enabled: false, clientCerts: 'not-requested' };
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await closeListener();
    // Hand over at once instead of letting the lock run out.
    await ha?.stop();
    vault.seal();
    await storage.close?.();
  };
  if (server.tls_cert) {
    const l = await listenTls(app, server, host, port);
    address = l.address;
    closeListener = l.close;
    tls = {
      enabled: true,
      clientCerts: !server.client_ca
        ? 'not-requested'
        : server.require_client_cert
          ? 'required'
          : 'verified-if-presented',
    };
  } else {
    if (server.tls_key || server.client_ca || server.require_client_cert) {
      throw new Error('[server] tls_key, client_ca and require_client_cert need tls_cert');
    }
    address = await app.listen({ host, port });
  }
  if (ha && !ha.apiAddr) {
    ha.apiAddr = address;
    if (host === '0.0.0.0' || host === '::') {
      opts.logger?.warn(
        `HA: set api_addr; standbys would send clients to ${address}, which is no address to connect to`,
      );
    }
  }
  return {
    app,
    vault,
    address,
    tls,
    ...(dev ? { dev } : {}),
    close: async () => {
      await closeListener();
      await app.close();
      await release();
    },
    release,
  };
}

/**
 * TLS in front of the fastify app: a node:tls server hands each decrypted connection to the
 * app's HTTP server (which wraps it for the LIST verb as any other). With `client_ca` clients are
 * asked for a certificate signed by it: required with `require_client_cert`, otherwise checked
 * only when presented (a certificate from another CA is refused either way).
 */
async function listenTls(
  app: FastifyInstance,
  cfg: SvaultConfig['server'],
  host: string,
  port: number,
): Promise<{ address: string; close: () => Promise<void> }> {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`);
    }
  };
  if (!cfg.tls_key) throw new Error('[server] tls_cert needs tls_key');
  if (cfg.require_client_cert && !cfg.client_ca) throw new Error('[server] require_client_cert needs client_ca');
  const ca = cfg.client_ca ? read(cfg.client_ca, 'client_ca') : undefined;
  const server = createTlsServer({
    cert: read(cfg.tls_cert, 'tls_cert'),
    key: read(cfg.tls_key, 'tls_key'),
    ALPNProtocols: ['http/1.1'],
    minVersion: 'TLSv1.2',
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: cfg.require_client_cert } : {}),
  });
  await app.ready();
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (sock: TLSSocket) => {
    if (ca && !sock.authorized && Object.keys(sock.getPeerCertificate()).length > 0) {
      sock.destroy(); // a certificate was presented and does not chain to client_ca
      return;
    }
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    app.server.emit('connection', sock);
  });
  server.on('tlsClientError', () => {}); // failed handshakes: the client sees the alert
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => {
      server.off('error', rej);
      res();
    });
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    address: `https://${shown}:${a.port}`,
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        for (const s of sockets) s.destroy();
      }),
  };
}
