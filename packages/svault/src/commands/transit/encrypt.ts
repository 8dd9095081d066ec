import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Encrypt data with a named key (vault:vN: ciphertext)',
  spec: 'SV11',
  args: {
    key: Args.string({ description: 'key name', required: true }),
    plaintext: Args.string({ description: 'data to encrypt; read from stdin when omitted' }),
  },
  flags: {
    'key-version': Flags.integer({ description: 'key version to use (default: the latest)', min: 1 }),
    base64: Flags.boolean({ description: 'the input is already base64' }),
    'batch-input': Flags.string({
      description: 'JSON file with an array of items, to process many at once',
      helpValue: '<file>',
    }),
  },
  examples: [
    '<%= config.bin %> transit encrypt payments "4111 1111 1111 1111"',
    '<%= config.bin %> transit encrypt payments --batch-input items.json',
  ],
});
