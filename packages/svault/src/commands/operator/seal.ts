import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Seal the vault: forget the root key until it is unsealed again',
  spec: 'SV2',
  description: 'While sealed, every secret path answers 503 (exit code 5 from the CLI).',
  examples: ['<%= config.bin %> operator seal'],
});
