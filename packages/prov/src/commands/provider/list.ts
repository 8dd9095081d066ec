import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List configured providers',
  spec: 'PV6',
  aliases: ['provider:ls'],
  examples: ['<%= config.bin %> provider list'],
});
