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
      path: z.string().default(''),
    })
    .prefault({}),
});

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
