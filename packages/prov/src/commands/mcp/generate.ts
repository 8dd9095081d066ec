import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Generate a Nickel config from a description',
  spec: 'PV11',
  args: {
    description: Args.string({ description: 'what to build', required: true }),
  },
  flags: {
    provider: Flags.string({ description: 'provider', options: ['aws', 'upcloud', 'local'] }),
    'resource-type': Flags.string({
      description: 'kind of resource',
      options: ['server', 'network', 'cluster', 'database'],
    }),
    out: Flags.string({ description: 'write the config to this file', char: 'o', helpValue: '<file>' }),
  },
  examples: ['<%= config.bin %> mcp generate "Create a 3-node K8s cluster with Cilium on UpCloud" -o cluster.ncl'],
});
