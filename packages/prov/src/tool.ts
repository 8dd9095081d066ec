import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import { z } from 'zod';

export const configSchema = toolConfigSchema({
  /** State location: a SQLite file path or a postgres:// URL. */
  state: z.string().default('.prov/state.db'),
  nickel: z
    .strictObject({
      /** builtin: the TypeScript evaluator; auto: a real `nickel` (NICKEL_BIN or PATH) when there is one. */
      engine: z.enum(['builtin', 'auto', 'binary']).default('builtin'),
      /** Extra import folders; a workspace's `schemas/` folder is always searched. */
      import_paths: z.array(z.string()).default([]),
    })
    .prefault({}),
});

export const tool: ToolSpec = {
  name: 'prov',
  config: {
    tool: 'prov',
    schema: configSchema,
    projectFile: 'prov.toml',
    env: { PROV_STATE: 'state', PROV_NICKEL_ENGINE: 'nickel.engine' },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
