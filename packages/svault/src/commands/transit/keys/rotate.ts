import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Add a new version of a key; new operations use it',
  spec: 'SV11',
  args: {
    name: Args.string({ description: 'key name', required: true }),
  },
  examples: ['<%= config.bin %> transit keys rotate payments'],
});
