import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Run a workflow',
  spec: 'PV8',
  args: {
    workflow: Args.string({
      description: 'backup, monitoring, security-hardening, or a workflow file',
      required: true,
    }),
  },
  flags: {
    cluster: Flags.string({ description: 'a cluster from state', helpValue: '<name>' }),
    'dry-run': Flags.boolean({ description: 'show the tasks in order without running them' }),
    parallelism: Flags.integer({ description: 'tasks run at the same time', default: 10, min: 1 }),
    'no-rollback': Flags.boolean({ description: 'on failure, keep what was completed' }),
    detach: Flags.boolean({ description: 'run in the daemon and return the run id at once' }),
  },
  examples: [
    '<%= config.bin %> workflow run backup --cluster k8s-prod',
    '<%= config.bin %> workflow run monitoring --cluster k8s-prod --detach',
  ],
});
