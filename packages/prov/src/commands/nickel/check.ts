import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Check a JSON, YAML or TOML file against a Nickel contract',
  spec: 'C6',
  description: 'A violation names the field path, the contract and the source position.',
  args: {
    data: Args.string({ description: 'data file (.json, .yaml, .toml)', required: true }),
  },
  flags: {
    contract: Flags.string({
      description: 'Nickel file whose value is the contract',
      helpValue: '<file>',
      required: true,
    }),
    'import-path': Flags.string({
      description: 'add a folder to the import search path (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      char: 'I',
      helpValue: '<dir>',
    }),
  },
  examples: ['<%= config.bin %> nickel check data.json --contract schemas/server.ncl'],
});
