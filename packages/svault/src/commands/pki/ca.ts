import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Print the CA certificate (PEM), as served at ca/pem',
  spec: 'SV12',
  flags: {
    chain: Flags.boolean({ description: 'print the whole chain, issuing CA first' }),
  },
  examples: ['<%= config.bin %> pki ca > ca.pem', '<%= config.bin %> pki ca --chain'],
});
