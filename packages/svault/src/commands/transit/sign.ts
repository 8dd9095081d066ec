import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Sign data with a named signing key',
  spec: 'SV11',
  args: {
    key: Args.string({ description: 'key name', required: true }),
    input: Args.string({ description: 'data to sign; read from stdin when omitted' }),
  },
  flags: {
    'hash-algorithm': Flags.string({
      description: 'hash for ecdsa keys',
      options: ['sha2-256', 'sha2-384', 'sha2-512'],
      default: 'sha2-256',
    }),
    'key-version': Flags.integer({ description: 'key version to use (default: the latest)', min: 1 }),
    'batch-input': Flags.string({
      description: 'JSON file with an array of items, to process many at once',
      helpValue: '<file>',
    }),
  },
  examples: [
    '<%= config.bin %> transit sign signer "release v1.2.0"',
    '<%= config.bin %> transit sign signer < release.tar.gz',
  ],
});
