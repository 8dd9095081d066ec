import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Change some keys of a secret, keeping the others (new version)',
  spec: 'SV8',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/db', required: true }),
    data: Args.string({
      description:
        'KEY=VALUE pairs, several allowed; KEY=@file reads the value from a file, - reads a JSON object from stdin',
    }),
  },
  flags: {
    cas: Flags.integer({
      description:
        'check-and-set: write only if the current version is this one (0: only if the secret does not exist)',
      min: 0,
    }),
  },
  examples: ['<%= config.bin %> kv patch secret/db password=n3w'],
});
