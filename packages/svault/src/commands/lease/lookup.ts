import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Show a lease's issue time, TTL and expiry",
  spec: 'SV14',
  args: {
    'lease-id': Args.string({ description: 'lease id, e.g. database/creds/app-rw/2f6a614c-...', required: true }),
  },
  examples: ['<%= config.bin %> lease lookup database/creds/app-rw/2f6a614c-4aa2-7b19-24b9-ad944a8d4de6'],
});
