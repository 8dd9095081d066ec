import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Show a token's policies, TTL and metadata (default: the token in use)",
  spec: 'SV5',
  args: {
    token: Args.string({ description: 'token, or accessor with --accessor' }),
  },
  flags: {
    accessor: Flags.boolean({ description: 'the argument is an accessor' }),
  },
  examples: [
    '<%= config.bin %> token lookup',
    '<%= config.bin %> token lookup --accessor 8609694a-cdbc-db9b-d345-e782dbb562ed',
  ],
});
