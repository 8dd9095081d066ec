import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Show a connection (password masked)',
  spec: 'SV13',
  args: {
    name: Args.string({ description: 'connection name', required: true }),
  },
  examples: ['<%= config.bin %> database config read app'],
});
