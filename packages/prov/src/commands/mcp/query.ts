import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Ask about the infrastructure in plain language',
  spec: 'PV11',
  args: {
    question: Args.string({ description: 'question', required: true }),
  },
  flags: {
    provider: Flags.string({ description: 'only this provider', options: ['aws', 'upcloud', 'local'] }),
  },
  examples: ['<%= config.bin %> mcp query "Show me all AWS servers in us-east-1"'],
});
