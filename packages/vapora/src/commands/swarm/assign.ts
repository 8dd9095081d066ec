import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { roleFlag } from '../../flags.js';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Assign a task to the best-scoring agent, showing the scores',
  spec: 'VP2',
  description: 'score = 0.3·load + 0.5·expertise + 0.2·confidence, an idle agent scoring highest on load.',
  args: {
    task: Args.string({ description: 'task id', required: true }),
  },
  flags: {
    role: roleFlag("only agents of this role (default: the task's)"),
    'dry-run': Flags.boolean({ description: 'show the scores without assigning' }),
  },
  examples: ['<%= config.bin %> swarm assign 42', '<%= config.bin %> swarm assign 42 --dry-run'],
});
