import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Check an audit log for changed, removed or reordered lines',
  spec: 'SV7',
  args: {
    file: Args.string({ description: 'audit log file', required: true }),
  },
  examples: ['<%= config.bin %> audit verify /var/log/svault/audit.log'],
});
