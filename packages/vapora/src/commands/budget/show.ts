import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Show budgets and spending per role',
  spec: 'VP4',
  args: {
    role: Args.string({
      description: 'only this role, e.g. devops or security (the 12 roles: vapora agent register --help)',
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
    }),
  },
  examples: ['<%= config.bin %> budget show', '<%= config.bin %> budget show security --json'],
});
