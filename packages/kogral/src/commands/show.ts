import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Show a node: frontmatter, body, relations and backlinks',
  spec: 'KG4',
  args: {
    id: Args.string({ description: 'node id', required: true }),
  },
  flags: {
    raw: Flags.boolean({ description: 'print the markdown file as it is' }),
  },
  examples: ['<%= config.bin %> show decision-0012', '<%= config.bin %> show decision-0012 --json'],
});
