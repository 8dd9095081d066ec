import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Show whether the vault is initialized and sealed, and the unseal progress',
  spec: 'SV2',
  examples: ['<%= config.bin %> operator status', '<%= config.bin %> operator status --json'],
});
