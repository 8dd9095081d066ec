import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: "Show a cluster's metrics",
  spec: 'PV9',
  args: {
    cluster: Args.string({ description: 'cluster name', required: true }),
  },
  examples: ['<%= config.bin %> metrics k8s-prod'],
});
