import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: "Show a cluster's events",
  spec: 'PV9',
  args: {
    cluster: Args.string({ description: 'cluster name', required: true }),
  },
  flags: {
    since: Flags.string({ description: 'only newer events, e.g. 24h', helpValue: '<duration>' }),
    follow: Flags.boolean({ description: 'keep printing new events', char: 'f' }),
  },
  examples: ['<%= config.bin %> events k8s-prod', '<%= config.bin %> events k8s-prod --since 1h'],
});
