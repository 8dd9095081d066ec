import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Create a PostgreSQL login for a role, under a lease',
  spec: 'SV13',
  description:
    'The login is dropped when the lease expires or is revoked, also for leases that expired while the daemon was down.',
  args: {
    role: Args.string({ description: 'role name', required: true }),
  },
  examples: ['<%= config.bin %> database creds app-rw', '<%= config.bin %> database creds app-rw --json'],
});
