import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Show a role',
  spec: 'SV13',
  args: {
    name: Args.string({ description: 'role name', required: true }),
  },
  examples: ['<%= config.bin %> database role read app-rw'],
});
