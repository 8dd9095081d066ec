import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: "Sign an intermediate CA's CSR with the root",
  spec: 'SV12',
  args: {
    csr: Args.string({ description: 'CSR file (PEM), or - for stdin', required: true }),
  },
  flags: {
    'common-name': Flags.string({ description: 'subject common name (default: from the CSR)' }),
    ttl: Flags.string({ description: 'validity, e.g. 43800h', helpValue: '<duration>' }),
  },
  examples: ['<%= config.bin %> pki root sign-intermediate int.csr --ttl 43800h > int.pem'],
});
