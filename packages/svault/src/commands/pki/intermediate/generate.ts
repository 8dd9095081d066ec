import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Generate an intermediate CA key and print its CSR',
  spec: 'SV12',
  flags: {
    'common-name': Flags.string({ description: 'CA subject common name', required: true }),
    'key-type': Flags.string({
      description: 'key type',
      options: ['rsa', 'ec', 'ed25519', 'ml-dsa-65'],
      default: 'ec',
    }),
    'key-bits': Flags.integer({ description: 'key size (rsa: 2048-4096, ec: 256 or 384)' }),
  },
  examples: ['<%= config.bin %> pki intermediate generate --common-name "Example Issuing CA" > int.csr'],
});
