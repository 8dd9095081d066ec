import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List the forms in a folder',
  spec: 'TD1',
  args: {
    dir: Args.string({ description: 'folder to look in', default: '.' }),
  },
  examples: ['<%= config.bin %> form list', '<%= config.bin %> form list forms/ --json'],
});
