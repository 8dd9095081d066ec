import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Configure a PostgreSQL connection',
  spec: 'SV13',
  args: {
    name: Args.string({ description: 'connection name', required: true }),
  },
  flags: {
    'connection-url': Flags.string({
      description: 'e.g. postgresql://{{username}}:{{password}}@db:5432/app',
      required: true,
    }),
    username: Flags.string({ description: 'user that creates and drops the login roles' }),
    password: Flags.string({ description: 'its password; prompted for (hidden) when omitted' }),
    'allowed-roles': Flags.string({
      description: 'roles that may use this connection, comma-separated (default: all)',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
    }),
    'no-verify': Flags.boolean({ description: 'save without testing the connection' }),
  },
  examples: [
    '<%= config.bin %> database config write app --connection-url "postgresql://{{username}}:{{password}}@db:5432/app" --username svault',
  ],
});
