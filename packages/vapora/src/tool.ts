import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import { z } from 'zod';

export const configSchema = toolConfigSchema({
  /** Address of a remote vapora server; empty means the local daemon. */
  url: z.string().default(''),
});

export const tool: ToolSpec = {
  name: 'vapora',
  config: {
    tool: 'vapora',
    schema: configSchema,
    projectFile: 'vapora.toml',
    env: { VAPORA_URL: 'url' },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
