import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Create a named encryption or signing key',
  spec: 'SV11',
  args: {
    name: Args.string({ description: 'key name', required: true }),
  },
  flags: {
    type: Flags.string({
      description: 'key type (ml-kem-768-x25519 is hybrid post-quantum key exchange)',
      options: ['aes256-gcm96', 'chacha20-poly1305', 'ed25519', 'ecdsa-p256', 'ml-dsa-65', 'ml-kem-768-x25519'],
      default: 'aes256-gcm96',
    }),
    exportable: Flags.boolean({ description: 'allow the key to be exported' }),
  },
  examples: [
    '<%= config.bin %> transit keys create payments',
    '<%= config.bin %> transit keys create signer --type ml-dsa-65',
  ],
});
