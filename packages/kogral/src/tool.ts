import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import { z } from 'zod';

export const configSchema = toolConfigSchema({
  /** The graph folder; empty means .kogral/ found from the working directory upwards. */
  dir: z.string().default(''),
});

export const tool: ToolSpec = {
  name: 'kogral',
  config: {
    tool: 'kogral',
    schema: configSchema,
    projectFile: '.kogral/config.toml',
    env: { KOGRAL_DIR: 'dir' },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
