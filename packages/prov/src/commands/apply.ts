import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Create, change or delete resources to match a config or a saved plan',
  spec: 'PV5',
  description:
    'Runs the tasks in dependency order, up to --parallelism at once, retrying with backoff and checkpointing after each one. If one fails, completed tasks are rolled back in reverse order unless --no-rollback.',
  args: {
    source: Args.string({ description: 'Nickel config, or a plan saved with plan -o', required: true }),
  },
  flags: {
    'auto-approve': Flags.boolean({ description: 'apply without asking', char: 'y' }),
    parallelism: Flags.integer({ description: 'tasks run at the same time', default: 10, min: 1 }),
    'no-rollback': Flags.boolean({ description: 'on failure, keep what was completed' }),
    target: Flags.string({
      description: 'only this resource and what it depends on (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<address>',
    }),
    detach: Flags.boolean({ description: 'run in the daemon and return at once; follow with workflow status' }),
  },
  aliases: ['up'],
  examples: ['<%= config.bin %> apply cluster.ncl', '<%= config.bin %> apply plan.json --auto-approve'],
});
