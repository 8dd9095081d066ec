import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { roleFlag } from '../../flags.js';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List tasks, by kanban column',
  spec: 'VP1',
  flags: {
    project: Flags.string({ description: 'project id or name', char: 'p', helpValue: '<project>' }),
    column: Flags.string({ description: 'only this column, e.g. todo or done' }),
    role: roleFlag('only tasks for this role'),
    agent: Flags.string({ description: 'only tasks assigned to this agent', helpValue: '<id>' }),
  },
  examples: ['<%= config.bin %> task list --project web-shop', '<%= config.bin %> task list --column review --json'],
});
