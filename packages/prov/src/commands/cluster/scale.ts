import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Change the number of nodes of a cluster',
  spec: 'PV8',
  args: {
    name: Args.string({ description: 'cluster name', required: true }),
  },
  flags: {
    workers: Flags.integer({ description: 'worker nodes', min: 0 }),
    'control-plane': Flags.integer({ description: 'control-plane nodes', min: 1 }),
  },
  examples: ['<%= config.bin %> cluster scale k8s-prod --workers 10'],
});
