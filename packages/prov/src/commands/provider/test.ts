import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Check a provider's credentials and connectivity",
  spec: 'PV6',
  args: {
    name: Args.string({
      description: 'provider: aws, upcloud or local',
      options: ['aws', 'upcloud', 'local'],
      required: true,
    }),
  },
  examples: ['<%= config.bin %> provider test aws'],
});
