import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'List transit keys',
  spec: 'SV11',
  examples: ['<%= config.bin %> transit keys list'],
});
