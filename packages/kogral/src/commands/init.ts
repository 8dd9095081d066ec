import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Create a .kogral/ graph in this folder',
  spec: 'KG1',
  description:
    'Writes .kogral/config.toml and one markdown file a node from then on. The markdown is the truth; any index under .kogral/ is a cache that can be rebuilt.',
  flags: {
    name: Flags.string({ description: 'graph name (default: the folder name)' }),
    org: Flags.string({
      description: 'org graph to inherit guidelines from: a path or a git URL',
      helpValue: '<path|url>',
    }),
  },
  examples: ['<%= config.bin %> init', '<%= config.bin %> init --org git@github.com:acme/guidelines.git'],
});
