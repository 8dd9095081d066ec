import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Approve pending DevOps or Security work',
  spec: 'VP6',
  args: {
    id: Args.string({ description: 'task id', required: true }),
  },
  flags: {
    comment: Flags.string({ description: 'note kept with the approval' }),
  },
  examples: ['<%= config.bin %> approve 42', '<%= config.bin %> approve 42 --comment "Change window ok"'],
});
