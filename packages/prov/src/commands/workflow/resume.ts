import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Resume an interrupted run from its last checkpoint',
  spec: 'PV5',
  args: {
    id: Args.string({ description: 'run id', required: true }),
  },
  examples: ['<%= config.bin %> workflow resume 01JH6Q2V3X'],
});
