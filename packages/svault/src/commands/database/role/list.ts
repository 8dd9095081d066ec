import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'List roles',
  spec: 'SV13',
  examples: ['<%= config.bin %> database role list'],
});
