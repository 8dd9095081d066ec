import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Decrypt a vault:vN: ciphertext',
  spec: 'SV11',
  args: {
    key: Args.string({ description: 'key name', required: true }),
    ciphertext: Args.string({ description: 'vault:vN:... ciphertext; read from stdin when omitted' }),
  },
  flags: {
    'batch-input': Flags.string({
      description: 'JSON file with an array of items, to process many at once',
      helpValue: '<file>',
    }),
  },
  examples: [
    '<%= config.bin %> transit decrypt payments vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w==',
  ],
});
