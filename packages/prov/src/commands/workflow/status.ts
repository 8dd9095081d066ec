import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Show a run's tasks and progress",
  spec: 'PV8',
  args: {
    id: Args.string({ description: 'run id', required: true }),
  },
  flags: {
    watch: Flags.boolean({ description: 'follow until it finishes' }),
  },
  examples: ['<%= config.bin %> workflow status 01JH6Q2V3X', '<%= config.bin %> workflow status 01JH6Q2V3X --watch'],
});
