import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Generate a data key, returned encrypted under a named key',
  spec: 'SV11',
  args: {
    key: Args.string({ description: 'key name', required: true }),
    type: Args.string({
      description: 'plaintext: the data key and its ciphertext; wrapped: the ciphertext only',
      options: ['plaintext', 'wrapped'],
      default: 'plaintext',
    }),
  },
  flags: {
    bits: Flags.string({ description: 'data key length in bits', options: ['128', '256', '512'], default: '256' }),
  },
  examples: [
    '<%= config.bin %> transit datakey payments',
    '<%= config.bin %> transit datakey payments wrapped --bits 512',
  ],
});
