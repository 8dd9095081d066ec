import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'List roles',
  spec: 'SV12',
  examples: ['<%= config.bin %> pki role list'],
});
