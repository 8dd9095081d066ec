import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: "Show a node's versions from git",
  spec: 'KG9',
  args: {
    id: Args.string({ description: 'node id', required: true }),
  },
  flags: {
    limit: Flags.integer({ description: 'at most this many versions', min: 1 }),
    diff: Flags.boolean({ description: 'show what changed in each version' }),
  },
  examples: ['<%= config.bin %> history decision-0012', '<%= config.bin %> history decision-0012 --diff --limit 3'],
});
