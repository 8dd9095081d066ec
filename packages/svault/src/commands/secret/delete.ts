import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Delete data at a path',
  spec: 'SV10',
  args: {
    path: Args.string({ description: 'path, e.g. secret/myapp', required: true }),
  },
  examples: ['<%= config.bin %> secret delete secret/myapp'],
});
