import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Extend a lease',
  spec: 'SV14',
  args: {
    'lease-id': Args.string({ description: 'lease id', required: true }),
  },
  flags: {
    increment: Flags.string({ description: 'requested extension, e.g. 1h', helpValue: '<duration>' }),
  },
  examples: ['<%= config.bin %> lease renew database/creds/app-rw/2f6a614c-4aa2-7b19-24b9-ad944a8d4de6 --increment 1h'],
});
