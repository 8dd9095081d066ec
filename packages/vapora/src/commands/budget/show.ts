import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { ROLES } from '../../core/roles.js';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Show budgets and spending per role',
  spec: 'VP4',
  args: {
    role: Args.string({
      description: 'only this role',
      options: [...ROLES],
    }),
  },
  examples: ['<%= config.bin %> budget show', '<%= config.bin %> budget show security --json'],
});
