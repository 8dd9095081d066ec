import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Move a resource to another address in state',
  spec: 'PV3',
  args: {
    source: Args.string({ description: 'current address', required: true }),
    destination: Args.string({ description: 'new address', required: true }),
  },
  examples: ['<%= config.bin %> state mv servers.web-01 servers.api-01'],
});
