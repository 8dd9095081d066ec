import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Show the actions a token may take on a path',
  spec: 'SV6',
  args: {
    path: Args.string({ description: 'path, e.g. secret/data/db', required: true }),
  },
  flags: {
    accessor: Flags.string({ description: 'check the token with this accessor (default: the token in use)' }),
  },
  examples: ['<%= config.bin %> token capabilities secret/data/db'],
});
