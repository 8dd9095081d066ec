import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import { z } from 'zod';

export const configSchema = toolConfigSchema({
  locale: z.string().default(''),
});

export const tool: ToolSpec = {
  name: 'typedialog',
  config: {
    tool: 'typedialog',
    schema: configSchema,
    projectFile: 'typedialog.toml',
    env: { TYPEDIALOG_LOCALE: 'locale' },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
