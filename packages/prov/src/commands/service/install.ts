import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Install a service (taskserv) on hosts or a cluster',
  spec: 'PV7',
  args: {
    service: Args.string({
      description: 'service, e.g. containerd, etcd, postgresql, prometheus, kubernetes, cilium',
      required: true,
    }),
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
    version: Flags.string({ description: "service version (default: the definition's)" }),
    parallelism: Flags.integer({ description: 'hosts at the same time', default: 10, min: 1 }),
  },
  examples: [
    '<%= config.bin %> service install containerd --servers server-01,server-02',
    '<%= config.bin %> service install cilium --cluster k8s-prod --version 1.14',
  ],
});
