import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Run a service's health check on its hosts",
  spec: 'PV7',
  args: {
    service: Args.string({ description: 'service name', required: true }),
  },
  flags: {
    servers: Flags.string({
      description: 'hosts, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
      helpValue: '<name,...>',
    }),
    cluster: Flags.string({ description: 'a cluster from state', helpValue: '<name>' }),
  },
  examples: ['<%= config.bin %> service status etcd --cluster k8s-prod'],
});
