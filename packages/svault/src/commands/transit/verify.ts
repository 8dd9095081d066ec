import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Verify a signature or an HMAC made with a named key',
  spec: 'SV11',
  args: {
    key: Args.string({ description: 'key name', required: true }),
    input: Args.string({ description: 'the signed data; read from stdin when omitted' }),
  },
  flags: {
    signature: Flags.string({ description: 'the vault:vN: signature to check' }),
    hmac: Flags.string({ description: 'the vault:vN: HMAC to check, instead of a signature' }),
    'hash-algorithm': Flags.string({
      description: 'hash for ecdsa keys',
      options: ['sha2-256', 'sha2-384', 'sha2-512'],
      default: 'sha2-256',
    }),
    'batch-input': Flags.string({
      description: 'JSON file with an array of items, to process many at once',
      helpValue: '<file>',
    }),
  },
  examples: ['<%= config.bin %> transit verify signer "release v1.2.0" --signature vault:v1:MEUCIQ...'],
});
