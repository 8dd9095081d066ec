import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Read data at a path',
  spec: 'SV10',
  args: {
    path: Args.string({ description: 'path, e.g. secret/myapp or database/creds/app', required: true }),
  },
  flags: {
    field: Flags.string({ description: 'print only this field', helpValue: '<name>' }),
  },
  examples: [
    '<%= config.bin %> secret read secret/myapp',
    '<%= config.bin %> secret read database/creds/app --field password',
  ],
});
