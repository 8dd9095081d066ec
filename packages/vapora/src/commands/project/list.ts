import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List projects',
  spec: 'VP1',
  examples: ['<%= config.bin %> project list'],
});
