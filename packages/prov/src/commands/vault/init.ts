import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Connect prov to SecretumVault',
  spec: 'PV12',
  flags: {
    addr: Flags.string({ description: 'svault address (default: the local daemon)', helpValue: '<url>' }),
    mount: Flags.string({ description: 'KV mount for prov secrets', default: 'secret' }),
  },
  examples: ['<%= config.bin %> vault init', '<%= config.bin %> vault init --addr https://vault.internal:8200'],
});
