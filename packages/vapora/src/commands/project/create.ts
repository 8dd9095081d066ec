import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Create a project',
  spec: 'VP1',
  args: {
    name: Args.string({ description: 'project name', required: true }),
  },
  flags: {
    description: Flags.string({ description: 'what the project is about' }),
  },
  examples: [
    '<%= config.bin %> project create web-shop',
    '<%= config.bin %> project create infra --description "Platform work"',
  ],
});
