import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Re-encrypt a ciphertext under the key's latest version",
  spec: 'SV11',
  description: 'The plaintext is never returned: use it after `transit keys rotate` to move data to the new version.',
  args: {
    key: Args.string({ description: 'key name', required: true }),
    ciphertext: Args.string({ description: 'vault:vN:... ciphertext; read from stdin when omitted' }),
  },
  flags: {
    'key-version': Flags.integer({ description: 'key version to use (default: the latest)', min: 1 }),
    'batch-input': Flags.string({
      description: 'JSON file with an array of items, to process many at once',
      helpValue: '<file>',
    }),
  },
  examples: [
    '<%= config.bin %> transit rewrap payments vault:v1:8SDd3WHDOjf7mq69CyCq...',
    '<%= config.bin %> transit rewrap payments --batch-input old.json',
  ],
});
