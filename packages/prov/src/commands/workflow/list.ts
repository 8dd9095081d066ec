import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List available workflows and recent runs',
  spec: 'PV8',
  aliases: ['workflow:ls'],
  examples: ['<%= config.bin %> workflow list'],
});
