import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Sync the graph with a shared team database, both ways',
  spec: 'KG11',
  description:
    'Matches nodes by id and updated time; conflicts are reported, never silently dropped. PostgreSQL, or SurrealDB when configured.',
  flags: {
    url: Flags.string({ description: 'database URL (default: from config)', helpValue: '<url>' }),
    direction: Flags.string({ description: 'which way to copy', options: ['both', 'push', 'pull'], default: 'both' }),
    'dry-run': Flags.boolean({ description: 'show what would change' }),
  },
  examples: ['<%= config.bin %> sync', '<%= config.bin %> sync --direction pull --dry-run'],
});
