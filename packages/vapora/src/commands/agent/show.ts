import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Show an agent: role, provider, status, current task',
  spec: 'VP1',
  args: {
    id: Args.string({ description: 'agent id', required: true }),
  },
  examples: ['<%= config.bin %> agent show reviewer-1'],
});
