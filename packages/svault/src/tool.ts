import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import { z } from 'zod';

export const configSchema = toolConfigSchema({
  /** Address of a remote svault (or Vault) server; empty means the local daemon. */
  addr: z.string().default(''),
  token: z.string().default(''),
  /** TLS to a server (Vault's VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY). */
  cacert: z.string().default(''),
  client_cert: z.string().default(''),
  client_key: z.string().default(''),
  skip_verify: z.boolean().default(false),
  /** The seed's shape: `[storage] backend = "filesystem"`, then one table per backend. */
  storage: z
    .strictObject({
      backend: z.enum(['filesystem', 'postgresql', 'etcd', 'surrealdb']).default('filesystem'),
      filesystem: z
        .strictObject({
          /** The data directory (default: <data dir>/storage). */
          path: z.string().default(''),
        })
        .prefault({}),
    })
    .prefault({}),
  server: z
    .strictObject({
      address: z.string().default('127.0.0.1:8200'),
      /** PEM certificate (chain) and key: with them the server speaks HTTPS, without them plain HTTP. */
      tls_cert: z.string().default(''),
      tls_key: z.string().default(''),
      /** PEM CA whose certificates clients may present (mTLS); checked when presented. */
      client_ca: z.string().default(''),
      /** Refuse clients without a certificate signed by client_ca. */
      require_client_cert: z.boolean().default(false),
      /** Largest request body in bytes (Vault's default: 32 MiB). */
      max_request_size: z
        .number()
        .int()
        .positive()
        .default(32 * 1024 * 1024),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /** Enable a file audit device at `file/` after unseal, writing to `path` (the seed's [audit]). */
      enabled: z.boolean().default(false),
      backend: z.enum(['file']).default('file'),
      path: z.string().default(''),
      /** Days a rotated audit file is kept (seed: 7 years); 0 keeps them forever. */
      retention_days: z.number().int().nonnegative().default(2555),
      /** How long a request waits for an audit device before counting it as failed. */
      timeout: z.string().default('3s'),
    })
    .prefault({}),
  vault: z
    .strictObject({
      /** openssl = node:crypto (default, fast); noble = pure JS. */
      crypto_backend: z.enum(['openssl', 'noble']).default('openssl'),
      cipher: z.enum(['aes-256-gcm', 'chacha20-poly1305']).default('aes-256-gcm'),
    })
    .prefault({}),
});

export type SvaultConfig = z.infer<typeof configSchema>;

export const tool: ToolSpec = {
  name: 'svault',
  config: {
    tool: 'svault',
    schema: configSchema,
    projectFile: 'svault.toml',
    env: {
      SVAULT_ADDR: 'addr',
      SVAULT_TOKEN: 'token',
      SVAULT_CACERT: 'cacert',
      SVAULT_CLIENT_CERT: 'client_cert',
      SVAULT_CLIENT_KEY: 'client_key',
      SVAULT_SKIP_VERIFY: 'skip_verify',
    },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
