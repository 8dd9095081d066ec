import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List clusters and their templates, sizes and versions',
  spec: 'PV8',
  aliases: ['cluster:ls'],
  examples: ['<%= config.bin %> cluster list'],
});
