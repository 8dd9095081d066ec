import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Print the certificate revocation list (PEM)',
  spec: 'SV12',
  flags: {
    rotate: Flags.boolean({ description: 'rebuild the CRL first' }),
  },
  examples: ['<%= config.bin %> pki crl > crl.pem', '<%= config.bin %> pki crl --rotate'],
});
