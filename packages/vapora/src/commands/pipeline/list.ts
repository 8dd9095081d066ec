import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List pipeline runs',
  spec: 'VP7',
  flags: {
    project: Flags.string({ description: 'project id or name', char: 'p', helpValue: '<project>' }),
  },
  examples: ['<%= config.bin %> pipeline list'],
});
