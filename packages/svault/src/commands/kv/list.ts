import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List the secrets under a path',
  spec: 'SV8',
  args: {
    path: Args.string({ description: 'path, e.g. secret/ or secret/apps/', required: true }),
  },
  examples: ['<%= config.bin %> kv list secret/', '<%= config.bin %> kv list secret/apps/ --json'],
});
