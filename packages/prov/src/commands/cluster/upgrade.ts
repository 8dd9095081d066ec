import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Upgrade a cluster, one node at a time',
  spec: 'PV8',
  args: {
    name: Args.string({ description: 'cluster name', required: true }),
  },
  flags: {
    version: Flags.string({ description: 'target version, e.g. 1.28', required: true }),
  },
  examples: ['<%= config.bin %> cluster upgrade k8s-prod --version 1.28'],
});
