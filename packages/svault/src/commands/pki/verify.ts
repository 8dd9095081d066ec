import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Verify a certificate against the CA, ML-DSA-65 certificates included',
  spec: 'SV12',
  description:
    'Classical certificates also verify with `openssl verify`; ML-DSA-65 ones (IETF LAMPS draft OIDs) are verified by svault itself.',
  args: {
    certificate: Args.string({ description: 'certificate (PEM)', required: true }),
  },
  flags: {
    ca: Flags.string({ description: "trust anchor (default: this vault's CA)", helpValue: '<file>' }),
  },
  examples: ['<%= config.bin %> pki verify api.pem', '<%= config.bin %> pki verify api.pem --ca ca.pem'],
});
