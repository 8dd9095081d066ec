import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { ROLES } from '../../core/roles.js';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Set a role's monthly and weekly budget",
  spec: 'VP4',
  args: {
    role: Args.string({
      description: 'role',
      options: [...ROLES],
      required: true,
    }),
  },
  flags: {
    monthly: Flags.integer({ description: 'monthly limit in cents', min: 0 }),
    weekly: Flags.integer({ description: 'weekly limit in cents', min: 0 }),
  },
  examples: ['<%= config.bin %> budget set security --monthly 50000 --weekly 15000'],
});
