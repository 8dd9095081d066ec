import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { roleFlag } from '../flags.js';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Report LLM costs: tokens and cents',
  spec: 'VP3',
  flags: {
    by: Flags.string({
      description: 'group by',
      options: ['provider', 'model', 'role', 'task-type'],
      default: 'provider',
    }),
    since: Flags.string({ description: 'from this date (YYYY-MM-DD) or this long ago, e.g. 7d', helpValue: '<when>' }),
    role: roleFlag('only this role'),
    provider: Flags.string({
      description: 'only this provider',
      options: ['anthropic', 'openai', 'gemini', 'ollama', 'exec'],
    }),
  },
  examples: ['<%= config.bin %> costs', '<%= config.bin %> costs --by role --since 7d'],
});
