import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List the keys under a path',
  spec: 'SV10',
  args: {
    path: Args.string({ description: 'path, e.g. secret/', required: true }),
  },
  examples: ['<%= config.bin %> secret list secret/', '<%= config.bin %> secret list database/roles/ --json'],
});
