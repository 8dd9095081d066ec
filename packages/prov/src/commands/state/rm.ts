import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Forget a resource without destroying it',
  spec: 'PV3',
  args: {
    address: Args.string({ description: 'resource address', required: true }),
  },
  examples: ['<%= config.bin %> state rm servers.web-01'],
});
