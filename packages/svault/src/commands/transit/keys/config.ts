import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: "Set a key's minimum decryption and encryption versions",
  spec: 'SV11',
  args: {
    name: Args.string({ description: 'key name', required: true }),
  },
  flags: {
    'min-decryption-version': Flags.integer({ description: 'oldest version that may still decrypt', min: 1 }),
    'min-encryption-version': Flags.integer({ description: 'oldest version that may encrypt (0: the latest)', min: 0 }),
  },
  examples: ['<%= config.bin %> transit keys config payments --min-decryption-version 3'],
});
