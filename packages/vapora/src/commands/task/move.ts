import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Move a task to another kanban column',
  spec: 'VP1',
  args: {
    id: Args.string({ description: 'task id', required: true }),
    column: Args.string({ description: 'target column, e.g. doing or done', required: true }),
  },
  examples: ['<%= config.bin %> task move 42 done'],
});
