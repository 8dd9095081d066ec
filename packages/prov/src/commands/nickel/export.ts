import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Evaluate a Nickel file and export it as JSON, YAML or TOML',
  spec: 'C6',
  args: {
    file: Args.string({ description: 'Nickel file', required: true }),
  },
  flags: {
    format: Flags.string({ description: 'output format', options: ['json', 'yaml', 'toml'], default: 'json' }),
    'import-path': Flags.string({
      description: 'add a folder to the import search path (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      char: 'I',
      helpValue: '<dir>',
    }),
    output: Flags.string({ description: 'write to this file instead of stdout', char: 'o', helpValue: '<file>' }),
  },
  examples: [
    '<%= config.bin %> nickel export config.ncl --format yaml',
    '<%= config.bin %> nickel export config.ncl -I schemas -o config.json',
  ],
});
