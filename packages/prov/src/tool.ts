import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import { z } from 'zod';

export const configSchema = toolConfigSchema({
  /** State location: a SQLite file path or a postgres:// URL. */
  state: z.string().default('.prov/state.db'),
});

export const tool: ToolSpec = {
  name: 'prov',
  config: {
    tool: 'prov',
    schema: configSchema,
    projectFile: 'prov.toml',
    env: { PROV_STATE: 'state' },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
