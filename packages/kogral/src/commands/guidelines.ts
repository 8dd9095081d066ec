import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: "Show guidelines, the org graph's merged with this project's",
  spec: 'KG8',
  description: "On the same id the project's guideline wins; each one says which graph it came from.",
  args: {
    query: Args.string({ description: 'only guidelines matching this text' }),
  },
  flags: {
    'project-only': Flags.boolean({ description: "leave out the org graph's guidelines" }),
  },
  examples: ['<%= config.bin %> guidelines "kubernetes deployment"', '<%= config.bin %> guidelines --project-only'],
});
