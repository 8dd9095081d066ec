import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Add a keyring term: new writes use a new barrier key',
  spec: 'SV3',
  description: 'Entries written before keep their term and stay readable; nothing is rewritten.',
  examples: ['<%= config.bin %> operator rotate'],
});
