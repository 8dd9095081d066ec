import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Revoke every lease under a prefix',
  spec: 'SV14',
  args: {
    prefix: Args.string({ description: 'lease id prefix, e.g. database/creds/app-rw/', required: true }),
  },
  examples: ['<%= config.bin %> lease revoke-prefix database/creds/app-rw/'],
});
