import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Reissue and deploy a cluster's certificates",
  spec: 'PV12',
  flags: {
    cluster: Flags.string({ description: 'cluster whose certificates to rotate', helpValue: '<name>', required: true }),
  },
  examples: ['<%= config.bin %> cert rotate --cluster k8s-prod'],
});
