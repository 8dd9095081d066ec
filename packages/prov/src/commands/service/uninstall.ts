import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Remove a service from hosts or a cluster',
  spec: 'PV7',
  args: {
    service: Args.string({ description: 'service name', required: true }),
  },
  flags: {
    servers: Flags.string({
      description: 'hosts, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
      helpValue: '<name,...>',
    }),
    cluster: Flags.string({ description: 'a cluster from state', helpValue: '<name>' }),
    yes: Flags.boolean({ description: 'remove without asking', char: 'y' }),
  },
  examples: ['<%= config.bin %> service uninstall prometheus --servers mon-01'],
});
