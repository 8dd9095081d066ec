import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { roleFlag } from '../../flags.js';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'List agents with role, status, load and last heartbeat',
  spec: 'VP1',
  flags: {
    role: roleFlag('only this role'),
    status: Flags.string({ description: 'only this status', options: ['ready', 'busy', 'offline'] }),
  },
  examples: ['<%= config.bin %> agent list', '<%= config.bin %> agent list --role devops --status ready'],
});
