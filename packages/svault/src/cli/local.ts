import { join, resolve } from 'node:path';
import { daemonStatus, dataDir, ensureDaemon, socketRequest } from '@stratumiops/shared/daemon';
import { conflictError, StratumError } from '@stratumiops/shared/errors';
import { type SvaultConfig, tool } from '../tool.js';

/** The filesystem backend's directory, absolute: `[storage.filesystem] path`, else <data dir>/storage. */
export function storagePath(cfg: SvaultConfig['storage']): string {
  return resolve(cfg.filesystem.path || join(dataDir('svault'), 'storage'));
}

/**
 * The local daemon's socket (local mode: no SVAULT_ADDR). With `start` (init, unseal) the daemon
 * is started when it is not running; otherwise a missing daemon means the keys are nowhere in
 * memory: the vault is sealed (exit 5). A daemon serving another storage directory is refused.
 */
export async function localDaemonSocket(cfg: SvaultConfig, start: boolean): Promise<string> {
  const want = storagePath(cfg.storage);
  let socket: string;
  if (start) {
    const config = { storage: cfg.storage, vault: cfg.vault, audit: cfg.audit, engines: cfg.engines };
    config.storage = { ...cfg.storage, filesystem: { path: want } };
    if (config.audit.path) config.audit = { ...config.audit, path: resolve(config.audit.path) };
    ({ socket } = await ensureDaemon({
      tool: 'svault',
      entry: tool.daemonEntry,
      args: ['--config-json', JSON.stringify(config)],
    }));
  } else {
    const s = await daemonStatus('svault');
    if (!s.running) {
      throw new StratumError('denied', `the local vault at ${want} is sealed: no svault daemon holds its keys`, {
        hint: "unseal it with 'svault operator unseal', or set SVAULT_ADDR to use a server",
      });
    }
    socket = s.socket;
  }
  const info = await socketRequest(socket, 'GET', '/daemon');
  const serves = (info.body as { storage?: string } | undefined)?.storage;
  if (serves && serves !== want) {
    throw conflictError(`the running svault daemon serves ${serves}, not ${want}`, {
      hint: "stop it with 'svault daemon stop' first, or run with the same configuration",
    });
  }
  return socket;
}

/** Whether the local daemon is up (without starting it). */
export async function localDaemonRunning(): Promise<boolean> {
  return (await daemonStatus('svault')).running;
}
