import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List enabled audit devices',
  spec: 'SV7',
  examples: ['<%= config.bin %> audit list'],
});
