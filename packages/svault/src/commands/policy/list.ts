import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List policies',
  spec: 'SV6',
  examples: ['<%= config.bin %> policy list'],
});
