import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Assign a task to a given agent',
  spec: 'VP1',
  description: 'To let the scorer choose the agent, use swarm assign.',
  args: {
    id: Args.string({ description: 'task id', required: true }),
  },
  flags: {
    agent: Flags.string({ description: 'agent id', helpValue: '<id>', required: true }),
  },
  examples: ['<%= config.bin %> task assign 42 --agent reviewer-1'],
});
