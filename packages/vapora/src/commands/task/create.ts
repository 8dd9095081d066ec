import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { roleFlag } from '../../flags.js';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Create a task',
  spec: 'VP1',
  args: {
    title: Args.string({ description: 'title', required: true }),
  },
  flags: {
    project: Flags.string({ description: 'project id or name', char: 'p', helpValue: '<project>' }),
    type: Flags.string({ description: 'task type, used for routing and expertise, e.g. code-review or deploy' }),
    role: roleFlag('role that should do it'),
    priority: Flags.string({
      description: 'priority',
      options: ['low', 'normal', 'high', 'critical'],
      default: 'normal',
    }),
    description: Flags.string({ description: 'details, or - for stdin' }),
  },
  examples: [
    '<%= config.bin %> task create "Review PR 42" --project web-shop --type code-review --role code-reviewer',
    '<%= config.bin %> task create "Rotate DB credentials" --type security-rotation --priority high',
  ],
});
