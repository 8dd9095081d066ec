import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Delete a role',
  spec: 'SV12',
  args: {
    name: Args.string({ description: 'role name', required: true }),
  },
  examples: ['<%= config.bin %> pki role delete web'],
});
