import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List available services and where they are installed',
  spec: 'PV7',
  flags: {
    installed: Flags.boolean({ description: 'only installed ones' }),
  },
  aliases: ['service:ls'],
  examples: ['<%= config.bin %> service list', '<%= config.bin %> service list --installed'],
});
