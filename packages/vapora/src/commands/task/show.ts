import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Show a task: status, assignee, output, costs, approvals',
  spec: 'VP1',
  args: {
    id: Args.string({ description: 'task id', required: true }),
  },
  examples: ['<%= config.bin %> task show 42'],
});
