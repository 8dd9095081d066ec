import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List the resources in state',
  spec: 'PV3',
  flags: {
    provider: Flags.string({ description: 'only this provider', options: ['aws', 'upcloud', 'local'] }),
  },
  aliases: ['state:ls'],
  examples: ['<%= config.bin %> state list', '<%= config.bin %> state list --provider aws --json'],
});
