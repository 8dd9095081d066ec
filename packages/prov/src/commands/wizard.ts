import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Set up a cluster, database or monitoring by answering questions',
  spec: 'PV9',
  description: 'Needs a terminal. Writes a Nickel config, validated against the schemas.',
  args: {
    kind: Args.string({
      description: 'what to set up: cluster, database or monitoring',
      options: ['cluster', 'database', 'monitoring'],
      required: true,
    }),
  },
  flags: {
    out: Flags.string({ description: 'write the config to this file', char: 'o', helpValue: '<file>' }),
  },
  examples: ['<%= config.bin %> wizard cluster', '<%= config.bin %> wizard database -o db.ncl'],
});
