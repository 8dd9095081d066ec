import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Create a provisioning workspace: prov.toml, schemas and state',
  spec: 'PV9',
  args: {
    dir: Args.string({ description: 'folder to create it in', default: '.' }),
  },
  flags: {
    provider: Flags.string({ description: 'first provider to configure', options: ['aws', 'upcloud', 'local'] }),
    state: Flags.string({
      description: 'state location: a SQLite file or a postgres:// URL (default: .prov/state.db)',
      helpValue: '<path|url>',
    }),
  },
  examples: ['<%= config.bin %> init', '<%= config.bin %> init infra --provider upcloud'],
});
