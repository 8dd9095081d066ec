import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Install the signed intermediate CA certificate',
  spec: 'SV12',
  args: {
    certificate: Args.string({ description: 'signed certificate (PEM), or - for stdin', required: true }),
  },
  examples: ['<%= config.bin %> pki intermediate set-signed int.pem'],
});
