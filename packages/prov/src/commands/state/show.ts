import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Show a resource's recorded attributes",
  spec: 'PV3',
  args: {
    address: Args.string({ description: 'resource address, e.g. servers.web-01', required: true }),
  },
  examples: ['<%= config.bin %> state show servers.web-01'],
});
