import * as Flags from '@oclif/core/flags';
import { StratumCommand } from '@stratumiops/shared/cli/command';
import type { FlagSetting } from '@stratumiops/shared/config';
import { unavailableError, usageError } from '@stratumiops/shared/errors';
import { type SvaultConfig, tool } from '../tool.js';

export default class Server extends StratumCommand<typeof Server> {
  static override tool = tool;
  static override summary = 'Run the HTTP server (Vault-compatible API)';
  static override description =
    'Serves the Vault-compatible HTTP API under /v1 with the listener, storage and crypto settings of the config file (--config), plus /v1/sys/health and /metrics. --dev runs in memory, initialized and unsealed, and prints its root token: for trying things out only. Stop it with Ctrl-C (SIGINT) or SIGTERM; it seals on the way out.';
  static override flags = {
    address: Flags.string({ description: 'listen address, overrides the config file', helpValue: '<host:port>' }),
    storage: Flags.string({
      description: 'storage backend, overrides the config file',
      options: ['filesystem', 'postgresql', 'etcd'],
    }),
    'storage-path': Flags.string({ description: 'filesystem storage directory', helpValue: '<dir>' }),
    dev: Flags.boolean({ description: 'in-memory, initialized and unsealed, root token printed (also -dev)' }),
  };
  static override strict = false;
  static override examples = [
    '<%= config.bin %> server --config svault.toml',
    '<%= config.bin %> server --dev',
    '<%= config.bin %> server --address 127.0.0.1:8300 --storage-path ./data',
  ];

  protected override configFlags(): FlagSetting[] {
    return [
      { key: 'server.address', flag: 'address', value: this.flags.address },
      { key: 'storage.backend', flag: 'storage', value: this.flags.storage },
      { key: 'storage.filesystem.path', flag: 'storage-path', value: this.flags['storage-path'] },
    ];
  }

  override async init(): Promise<void> {
    // Vault spells it `-dev`; oclif would read that as -d -e -v.
    this.argv = this.argv.map((a) => (a === '-dev' ? '--dev' : a));
    await super.init();
  }

  async run() {
    if (this.positionals.length > 0) throw usageError(`unexpected argument '${this.positionals[0]}'`);
    const cfg = this.settings.values as SvaultConfig;
    const { startServer } = await import('../server/main.js');
    const { installGracefulShutdown } = await import('@stratumiops/shared/http');
    const { StorageInUseError } = await import('../adapters/filesystem.js');
    const srv = await startServer({ config: cfg, dev: this.flags.dev, logger: this.logger }).catch((e: unknown) => {
      if (e instanceof StorageInUseError) {
        throw unavailableError(e.message, {
          hint: 'stop the other svault server or daemon, or use another data directory',
        });
      }
      throw e;
    });
    installGracefulShutdown(srv.app, { logger: this.logger, onClose: () => srv.release() });
    const info = {
      address: srv.address,
      tls: srv.tls.enabled,
      client_certificates: srv.tls.clientCerts,
      storage: this.flags.dev ? 'inmem' : cfg.storage.backend,
      ...(srv.dev ? { unseal_key: srv.dev.unsealKey, root_token: srv.dev.rootToken } : {}),
    };
    // Said on stderr in every mode, so that plain HTTP is never silent (stdout stays JSON with --json).
    const how = srv.tls.enabled
      ? `TLS; client certificates ${srv.tls.clientCerts.replaceAll('-', ' ')}`
      : 'plain HTTP: no tls_cert configured, traffic and tokens are not encrypted';
    process.stderr.write(`svault server listening on ${srv.address} (${how})\n`);
    if (this.jsonEnabled()) this.logJson(info);
    else {
      if (srv.dev) {
        this.log('Development mode: in-memory storage, unsealed. Do not use it for real secrets.\n');
        this.log(`Unseal Key: ${srv.dev.unsealKey}`);
        this.log(`Root Token: ${srv.dev.rootToken}\n`);
        this.log(`export SVAULT_ADDR='${srv.address}'`);
      }
    }
    // Serve until a signal ends the process (installGracefulShutdown exits).
    await new Promise(() => {});
  }
}
