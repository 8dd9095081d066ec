import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List the accessors of live tokens',
  spec: 'SV5',
  examples: ['<%= config.bin %> token list', '<%= config.bin %> token list --json'],
});
