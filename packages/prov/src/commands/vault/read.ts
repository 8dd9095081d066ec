import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Read a secret from svault',
  spec: 'PV12',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/myapp', required: true }),
  },
  flags: {
    field: Flags.string({ description: 'print only this field', helpValue: '<name>' }),
  },
  examples: ['<%= config.bin %> vault read secret/myapp', '<%= config.bin %> vault read secret/myapp --field key'],
});
