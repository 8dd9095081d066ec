import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Disable an audit device',
  spec: 'SV7',
  args: {
    path: Args.string({ description: 'device path, e.g. file/', required: true }),
  },
  examples: ['<%= config.bin %> audit disable file/'],
});
