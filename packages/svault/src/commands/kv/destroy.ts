import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Permanently destroy versions of a secret',
  spec: 'SV8',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/db', required: true }),
  },
  flags: {
    versions: Flags.string({
      description: 'versions to destroy, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
      helpValue: '<n,...>',
      required: true,
    }),
  },
  examples: ['<%= config.bin %> kv destroy secret/db --versions 1,2'],
});
