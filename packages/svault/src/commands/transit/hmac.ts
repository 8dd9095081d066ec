import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Compute an HMAC of data with a named key',
  spec: 'SV11',
  args: {
    key: Args.string({ description: 'key name', required: true }),
    input: Args.string({ description: 'data; read from stdin when omitted' }),
  },
  flags: {
    algorithm: Flags.string({
      description: 'hash function',
      options: ['sha2-256', 'sha2-384', 'sha2-512'],
      default: 'sha2-256',
    }),
    'key-version': Flags.integer({ description: 'key version to use (default: the latest)', min: 1 }),
    'batch-input': Flags.string({
      description: 'JSON file with an array of items, to process many at once',
      helpValue: '<file>',
    }),
  },
  examples: ['<%= config.bin %> transit hmac payments "order-1234"'],
});
