import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Soft-delete versions of a secret (undelete restores them)',
  spec: 'SV8',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/db', required: true }),
  },
  flags: {
    versions: Flags.string({
      description: 'versions to delete, comma-separated (default: the latest)',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
      helpValue: '<n,...>',
    }),
  },
  examples: ['<%= config.bin %> kv delete secret/db', '<%= config.bin %> kv delete secret/db --versions 2,3'],
});
