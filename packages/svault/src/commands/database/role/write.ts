import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Create or update a role: creation and revocation SQL, TTLs',
  spec: 'SV13',
  args: {
    name: Args.string({ description: 'role name', required: true }),
  },
  flags: {
    'db-name': Flags.string({ description: 'connection to use', required: true }),
    'creation-statements': Flags.string({
      description: 'SQL run to create the login, with {{name}}, {{password}}, {{expiration}}; @file reads a file',
      required: true,
    }),
    'revocation-statements': Flags.string({ description: 'SQL run to drop it (default: revoke and drop the role)' }),
    'default-ttl': Flags.string({ description: 'lease TTL, e.g. 1h', helpValue: '<duration>' }),
    'max-ttl': Flags.string({ description: 'longest a lease may be renewed to', helpValue: '<duration>' }),
  },
  examples: [
    '<%= config.bin %> database role write app-rw --db-name app --creation-statements @create.sql --default-ttl 1h --max-ttl 24h',
  ],
});
