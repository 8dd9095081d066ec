import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: "Show a key's type, versions and minimum decryption version",
  spec: 'SV11',
  args: {
    name: Args.string({ description: 'key name', required: true }),
  },
  examples: ['<%= config.bin %> transit keys read payments'],
});
