import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Create a cluster from a template',
  spec: 'PV8',
  args: {
    name: Args.string({ description: 'cluster name', required: true }),
  },
  flags: {
    template: Flags.string({
      description: 'template: k8s-ha, k8s-dev, db-cluster, or a template folder',
      required: true,
    }),
    provider: Flags.string({ description: 'provider', options: ['aws', 'upcloud', 'local'] }),
    workers: Flags.integer({ description: 'worker nodes', min: 0 }),
    version: Flags.string({ description: 'Kubernetes or PostgreSQL version' }),
  },
  examples: [
    '<%= config.bin %> cluster create k8s-prod --template k8s-ha --provider upcloud',
    '<%= config.bin %> cluster create dev --template k8s-dev',
  ],
});
