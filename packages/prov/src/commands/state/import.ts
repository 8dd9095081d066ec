import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Record an existing resource in state',
  spec: 'PV3',
  args: {
    address: Args.string({ description: 'address in the config, e.g. servers.web-01', required: true }),
    id: Args.string({ description: 'provider id, e.g. i-0abc123def456', required: true }),
  },
  examples: ['<%= config.bin %> state import servers.web-01 i-0abc123def456'],
});
