import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Extend a token's TTL, up to its max TTL",
  spec: 'SV5',
  args: {
    token: Args.string({ description: 'token, or accessor with --accessor (default: the token in use)' }),
  },
  flags: {
    increment: Flags.string({ description: 'requested extension, e.g. 1h', helpValue: '<duration>' }),
    accessor: Flags.boolean({ description: 'the argument is an accessor' }),
  },
  examples: ['<%= config.bin %> token renew', '<%= config.bin %> token renew --increment 2h'],
});
