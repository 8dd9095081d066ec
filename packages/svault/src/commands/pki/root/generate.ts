import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Generate a self-signed root CA',
  spec: 'SV12',
  flags: {
    'common-name': Flags.string({ description: 'CA subject common name', required: true }),
    'key-type': Flags.string({
      description: 'key type',
      options: ['rsa', 'ec', 'ed25519', 'ml-dsa-65'],
      default: 'ec',
    }),
    'key-bits': Flags.integer({ description: 'key size (rsa: 2048-4096, ec: 256 or 384)' }),
    ttl: Flags.string({ description: 'validity, e.g. 87600h', helpValue: '<duration>' }),
    exported: Flags.boolean({ description: 'also print the private key, once' }),
  },
  examples: [
    '<%= config.bin %> pki root generate --common-name "Example Root CA" --ttl 87600h',
    '<%= config.bin %> pki root generate --common-name "Example PQ Root" --key-type ml-dsa-65',
  ],
});
