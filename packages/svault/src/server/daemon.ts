import { loadConfig } from '@stratumiops/shared/config';
import { serveDaemon } from '@stratumiops/shared/daemon';
import { createLogger, type LogLevel } from '@stratumiops/shared/log';
import pkg from '../../package.json' with { type: 'json' };
import { type SvaultConfig, tool } from '../tool.js';
import { registerVaultApi } from './http.js';
import { createVault, storagePath, type VaultConfig } from './main.js';

/**
 * The local daemon: the vault over the local storage, served on a unix socket (0600) so the
 * keys stay in this process's memory between CLI commands. `operator init` and `operator unseal`
 * start it when SVAULT_ADDR is not set; `svault daemon status|stop` control it. The CLI passes
 * the storage and crypto settings it resolved (--config-json); started by hand
 * (`svault daemon start`) it reads the config files itself.
 */
const i = process.argv.indexOf('--config-json');
const config: VaultConfig =
  i >= 0 ? (JSON.parse(process.argv[i + 1] ?? '{}') as VaultConfig) : loadConfig<SvaultConfig>(tool.config).values;
const logger = createLogger({
  name: 'svaultd',
  level: (process.env.SVAULT_LOG_LEVEL as LogLevel) || 'info',
  format: process.env.SVAULT_LOG_FORMAT === 'json' ? 'json' : 'text',
  stream: process.stdout,
});
const storage = storagePath(config.storage);
const { vault, storage: backend, ha } = await createVault(config, { logger });

await serveDaemon({
  tool: 'svault',
  version: pkg.version,
  logger,
  register: (app) => {
    registerVaultApi(app, { vault, logger });
    // Which storage this daemon serves: a CLI configured for another one refuses to use it.
    app.get('/daemon', async () => ({ storage, sealed: vault.sealed, pid: process.pid }));
  },
  onClose: async () => {
    await ha?.stop();
    vault.seal();
    await backend.close?.();
  },
});
