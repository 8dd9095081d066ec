import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Restore a cluster from a backup',
  spec: 'PV8',
  args: {
    name: Args.string({ description: 'cluster name', required: true }),
  },
  flags: {
    from: Flags.string({ description: 'backup folder', helpValue: '<dir>', required: true }),
    yes: Flags.boolean({ description: 'restore without asking', char: 'y' }),
  },
  examples: ['<%= config.bin %> cluster restore k8s-prod --from /backups/2026-01-22/'],
});
