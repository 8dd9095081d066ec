import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { ROLES } from '../core/roles.js';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Show expertise profiles: success rate, duration and confidence by task type',
  spec: 'VP2',
  description: 'Built from execution history, the last 7 days weighted 3x.',
  args: {
    role: Args.string({
      description: 'only this role',
      options: [...ROLES],
    }),
  },
  flags: {
    agent: Flags.string({ description: 'only this agent', helpValue: '<id>' }),
  },
  examples: ['<%= config.bin %> expertise', '<%= config.bin %> expertise code-reviewer --json'],
});
