import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Store a secret in svault',
  spec: 'PV12',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/myapp', required: true }),
    data: Args.string({ description: 'KEY=VALUE pairs, several allowed' }),
  },
  examples: ['<%= config.bin %> vault store secret/myapp key=value'],
});
