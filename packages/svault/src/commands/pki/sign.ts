import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Sign a CSR with a role',
  spec: 'SV12',
  args: {
    role: Args.string({ description: 'role name', required: true }),
    csr: Args.string({ description: 'CSR file (PEM), or - for stdin', required: true }),
  },
  flags: {
    'common-name': Flags.string({ description: 'subject common name (default: from the CSR)' }),
    'alt-names': Flags.string({
      description: 'DNS subject alternative names, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
    }),
    ttl: Flags.string({ description: 'validity, up to the role max TTL', helpValue: '<duration>' }),
  },
  examples: ['<%= config.bin %> pki sign web api.csr > api.pem'],
});
