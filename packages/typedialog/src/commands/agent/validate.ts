import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Check an agent file: frontmatter, sections, output schema',
  spec: 'TD6',
  args: {
    agent: Args.string({ description: 'agent file (.mdx)', required: true }),
  },
  examples: ['<%= config.bin %> agent validate agents/code_reviewer.mdx'],
});
