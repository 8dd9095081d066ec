import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Run the HTTP server (Vault-compatible API)',
  spec: 'SV9',
  description:
    'Serves the Vault-compatible HTTP API under /v1 with the listener, TLS/mTLS, storage and seal settings of the config file (--config), plus /v1/sys/health and /v1/sys/metrics.',
  flags: {
    address: Flags.string({ description: 'listen address, overrides the config file', helpValue: '<host:port>' }),
    storage: Flags.string({
      description: 'storage backend, overrides the config file',
      options: ['filesystem', 'postgresql', 'etcd', 'surrealdb'],
    }),
    'tls-cert': Flags.string({ description: 'server certificate (PEM)', helpValue: '<file>' }),
    'tls-key': Flags.string({ description: 'server private key (PEM)', helpValue: '<file>' }),
    'tls-client-ca': Flags.string({
      description: 'require client certificates signed by this CA (mTLS)',
      helpValue: '<file>',
    }),
  },
  examples: [
    '<%= config.bin %> server --config svault.toml',
    '<%= config.bin %> server --address 0.0.0.0:8200 --storage postgresql',
  ],
});
