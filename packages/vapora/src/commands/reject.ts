import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Reject pending DevOps or Security work',
  spec: 'VP6',
  args: {
    id: Args.string({ description: 'task id', required: true }),
  },
  flags: {
    reason: Flags.string({ description: 'why', required: true }),
  },
  examples: ['<%= config.bin %> reject 42 --reason "Needs a rollback plan"'],
});
