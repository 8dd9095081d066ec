import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Create or replace a Cedar policy',
  spec: 'SV6',
  args: {
    name: Args.string({ description: 'policy name', required: true }),
    file: Args.string({ description: 'Cedar policy file, or - for stdin', required: true }),
  },
  examples: [
    '<%= config.bin %> policy write app-read policies/app-read.cedar',
    '<%= config.bin %> policy write ops - < ops.cedar',
  ],
});
