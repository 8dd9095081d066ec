import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: "Run a cluster's health checks",
  spec: 'PV9',
  args: {
    cluster: Args.string({ description: 'cluster name', required: true }),
  },
  examples: ['<%= config.bin %> health k8s-prod'],
});
