import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Show a pipeline run's steps and outputs",
  spec: 'VP7',
  args: {
    id: Args.string({ description: 'run id', required: true }),
  },
  flags: {
    watch: Flags.boolean({ description: 'follow until it finishes' }),
  },
  examples: ['<%= config.bin %> pipeline status 7', '<%= config.bin %> pipeline status 7 --watch'],
});
