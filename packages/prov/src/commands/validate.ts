import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Check configs against the schemas before anything runs',
  spec: 'PV2',
  description: 'Each error names the field path, the contract and file:line.',
  args: {
    config: Args.string({ description: 'Nickel config file or folder (default: the workspace)' }),
  },
  flags: {
    'import-path': Flags.string({
      description: 'add a folder to the import search path (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      char: 'I',
      helpValue: '<dir>',
    }),
  },
  aliases: ['mcp:validate'],
  examples: ['<%= config.bin %> validate', '<%= config.bin %> validate cluster.ncl'],
});
