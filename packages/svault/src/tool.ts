import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import * as z from '@stratumiops/shared/zod';

/** A table name, optionally schema-qualified: it goes into SQL (quoted), so nothing else. */
const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

export const configSchema = toolConfigSchema({
  /** Address of a remote svault (or Vault) server; empty means the local daemon. */
  addr: z.string().default(''),
  token: z.string().default(''),
  /** TLS to a server (Vault's VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY). */
  cacert: z.string().default(''),
  client_cert: z.string().default(''),
  client_key: z.string().default(''),
  skip_verify: z.boolean().default(false),
  /** `[storage] backend = "filesystem"`, then one table per backend. */
  storage: z
    .strictObject({
      backend: z.enum(['filesystem', 'postgresql', 'etcd', 'surrealdb']).default('filesystem'),
      filesystem: z
        .strictObject({
          /** The data directory (default: <data dir>/storage). */
          path: z.string().default(''),
        })
        .prefault({}),
      /** Vault's layout: one table, created if missing; HA through a lock row that expires unless renewed. */
      postgresql: z
        .strictObject({
          /** postgresql://user:password@host:5432/db (`svault config` masks the password). */
          connection_url: z.string().default(''),
          table: z.string().regex(SQL_NAME, 'a plain SQL name like svault_kv or schema.svault_kv').default('svault_kv'),
          ha_table: z
            .string()
            .regex(SQL_NAME, 'a plain SQL name like svault_ha_locks or schema.svault_ha_locks')
            .default('svault_ha_locks'),
          ha_enabled: z.boolean().default(false),
          /** Most connections at once. */
          max_parallel: z.number().int().positive().default(16),
        })
        .prefault({}),
      /** etcd v3: keys under `prefix`; HA through a key on a lease. */
      etcd: z
        .strictObject({
          endpoints: z
            .array(z.url({ protocol: /^https?$/ }))
            .min(1)
            .default(['http://127.0.0.1:2379']),
          prefix: z
            .string()
            .regex(/^.*\/$/, "must end with '/'")
            .default('/svault/'),
          username: z.string().default(''),
          password: z.string().default(''),
          ha_enabled: z.boolean().default(false),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * The address clients should use for this server (Vault's api_addr): a standby redirects
   * clients to the active node's. Default: the address the server listens on.
   */
  api_addr: z.string().default(''),
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
      /** Enable a file audit device at `file/` after unseal, writing to `path` (the [audit] table). */
      enabled: z.boolean().default(false),
      backend: z.enum(['file']).default('file'),
      path: z.string().default(''),
      /** Days a rotated audit file is kept (default: 7 years); 0 keeps them forever. */
      retention_days: z.number().int().nonnegative().default(2555),
      /** How long a request waits for an audit device before counting it as failed. */
      timeout: z.string().default('3s'),
    })
    .prefault({}),
  /**
   * Secrets engines mounted at init, the `[engines]` table: `kv = { path = "secret", version = 2 }`,
   * `pki = { path = "pki", max_lease_ttl = "87600h" }`. The key is the engine type unless `type` names
   * it (two KV mounts: `team_kv = { type = "kv", path = "team" }`). Without the table nothing is
   * mounted, as in Vault (only `--dev` mounts secret/).
   */
  engines: z
    .record(
      z.string(),
      z.strictObject({
        type: z.string().optional(),
        path: z.string().min(1),
        /** KV only: 1 or 2 (default 2). */
        version: z.union([z.literal(1), z.literal(2)]).optional(),
        description: z.string().default(''),
        default_lease_ttl: z.string().optional(),
        max_lease_ttl: z.string().optional(),
      }),
    )
    .default({}),
  vault: z
    .strictObject({
      /** openssl = node:crypto (default, fast); noble = pure JS; pqc = keyring wrapped with ML-KEM-768 + X25519. */
      crypto_backend: z.enum(['openssl', 'noble', 'pqc']).default('openssl'),
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
      SVAULT_API_ADDR: 'api_addr',
    },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
