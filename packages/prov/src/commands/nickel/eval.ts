import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Evaluate a Nickel file, or one field of it',
  spec: 'C6',
  args: {
    file: Args.string({ description: 'Nickel file', required: true }),
  },
  flags: {
    field: Flags.string({ description: 'dotted path to print, e.g. servers.0.spec', helpValue: '<path>' }),
    'import-path': Flags.string({
      description: 'add a folder to the import search path (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      char: 'I',
      helpValue: '<dir>',
    }),
  },
  examples: [
    '<%= config.bin %> nickel eval config.ncl',
    '<%= config.bin %> nickel eval config.ncl --field servers.0.spec',
  ],
});
