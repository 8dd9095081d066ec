import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Delete a policy',
  spec: 'SV6',
  args: {
    name: Args.string({ description: 'policy name', required: true }),
  },
  examples: ['<%= config.bin %> policy delete app-read'],
});
