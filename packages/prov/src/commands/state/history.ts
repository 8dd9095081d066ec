import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Show recorded applies: who, when, what changed',
  spec: 'PV3',
  flags: {
    resource: Flags.string({ description: 'only applies that touched this resource', helpValue: '<address>' }),
    limit: Flags.integer({ description: 'at most this many', min: 1 }),
  },
  examples: ['<%= config.bin %> state history', '<%= config.bin %> state history --resource servers.web-01'],
});
