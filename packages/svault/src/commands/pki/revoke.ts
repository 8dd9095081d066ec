import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Revoke a certificate by serial number',
  spec: 'SV12',
  args: {
    serial: Args.string({
      description: 'serial number, e.g. 39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58',
      required: true,
    }),
  },
  examples: ['<%= config.bin %> pki revoke 39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58'],
});
