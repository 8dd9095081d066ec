import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import { z } from 'zod';

export const configSchema = toolConfigSchema({
  /** Address of a remote svault (or Vault) server; empty means the local daemon. */
  addr: z.string().default(''),
  token: z.string().default(''),
  storage: z
    .strictObject({
      backend: z.enum(['filesystem', 'postgresql', 'etcd', 'surrealdb']).default('filesystem'),
      /** Filesystem backend: the data directory (default: <data dir>/storage). */
      path: z.string().default(''),
    })
    .prefault({}),
  server: z
    .strictObject({
      address: z.string().default('127.0.0.1:8200'),
      /** Largest request body in bytes (Vault's default: 32 MiB). */
      max_request_size: z
        .number()
        .int()
        .positive()
        .default(32 * 1024 * 1024),
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
    env: { SVAULT_ADDR: 'addr', SVAULT_TOKEN: 'token' },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
