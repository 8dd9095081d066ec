import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Back up a cluster',
  spec: 'PV8',
  args: {
    name: Args.string({ description: 'cluster name', required: true }),
  },
  flags: {
    output: Flags.string({ description: 'folder to write the backup to', helpValue: '<dir>', required: true }),
  },
  examples: ['<%= config.bin %> cluster backup k8s-prod --output /backups/'],
});
