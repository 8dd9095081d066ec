import { join } from 'node:path';
import { dataDir } from '@stratumiops/shared/daemon';
import type { Logger } from '@stratumiops/shared/log';
import type { FastifyInstance } from 'fastify';
import { FilesystemStorage } from '../adapters/filesystem.js';
import { MemoryStorage } from '../adapters/memory.js';
import { CryptoSuite } from '../core/crypto.js';
import type { Storage } from '../core/storage.js';
import { Vault } from '../core/vault.js';
import type { SvaultConfig } from '../tool.js';
import { buildHttpServer } from './http.js';

export interface RunningServer {
  app: FastifyInstance;
  vault: Vault;
  /** http://host:port */
  address: string;
  /** Dev mode only: the unseal key and root token. */
  dev?: { unsealKey: string; rootToken: string };
  close(): Promise<void>;
}

export interface StartOptions {
  config: Pick<SvaultConfig, 'storage' | 'server' | 'vault'>;
  /** In-memory storage, initialized and unsealed (`server -dev`). */
  dev?: boolean;
  /** host:port; overrides config.server.address (port 0 picks a free one). */
  address?: string;
  logger?: Logger;
  tidyIntervalMs?: number;
}

export function openStorage(cfg: SvaultConfig['storage']): Storage {
  if (cfg.backend !== 'filesystem') {
    throw new Error(`storage backend "${cfg.backend}" is not available yet; use "filesystem"`);
  }
  return new FilesystemStorage(cfg.path || join(dataDir('svault'), 'storage'));
}

export function parseAddress(addr: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(addr.trim());
  if (!m) throw new Error(`invalid listen address "${addr}": expected host:port`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Builds the vault and its HTTP API and starts listening. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const storage: Storage = opts.dev ? new MemoryStorage() : openStorage(opts.config.storage);
  const suite = await CryptoSuite.create(opts.config.vault.crypto_backend, opts.config.vault.cipher);
  const vault = new Vault({ storage, suite, tidyIntervalMs: opts.tidyIntervalMs ?? 60_000 });
  let dev: RunningServer['dev'];
  if (opts.dev) {
    const init = await vault.init(1, 1);
    await vault.unseal(init.keys[0] as string);
    dev = { unsealKey: init.keys_base64[0] as string, rootToken: init.root_token };
  }
  const app = await buildHttpServer({
    vault,
    bodyLimit: opts.config.server.max_request_size,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const { host, port } = parseAddress(opts.address ?? opts.config.server.address);
  const address = await app.listen({ host, port });
  return {
    app,
    vault,
    address,
    ...(dev ? { dev } : {}),
    close: async () => {
      await app.close();
      vault.seal();
      await storage.close?.();
    },
  };
}
