import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Restore soft-deleted versions of a secret',
  spec: 'SV8',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/db', required: true }),
  },
  flags: {
    versions: Flags.string({
      description: 'versions to restore, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
      helpValue: '<n,...>',
      required: true,
    }),
  },
  examples: ['<%= config.bin %> kv undelete secret/db --versions 3'],
});
