import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Set a role's monthly and weekly budget",
  spec: 'VP4',
  args: {
    role: Args.string({
      description: 'role, e.g. devops or security (the 12 roles: vapora agent register --help)',
      options: [
        'architect',
        'developer',
        'code-reviewer',
        'tester',
        'documenter',
        'marketer',
        'presenter',
        'devops',
        'monitor',
        'security',
        'project-manager',
        'decision-maker',
      ],
      required: true,
    }),
  },
  flags: {
    monthly: Flags.integer({ description: 'monthly limit in cents', min: 0 }),
    weekly: Flags.integer({ description: 'weekly limit in cents', min: 0 }),
  },
  examples: ['<%= config.bin %> budget set security --monthly 50000 --weekly 15000'],
});
