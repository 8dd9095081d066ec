import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Show what apply would change: config vs recorded state vs real resources',
  spec: 'PV4',
  description:
    'Lists each create, update, replace and delete, drift found on refresh, and a summary line. Save it with -o and pass the file to apply.',
  args: {
    config: Args.string({ description: 'Nickel config file, e.g. cluster.ncl', required: true }),
  },
  flags: {
    out: Flags.string({ description: 'save the plan to this file, for apply', char: 'o', helpValue: '<plan.json>' }),
    'no-refresh': Flags.boolean({ description: 'compare with recorded state only; do not query the providers' }),
    target: Flags.string({
      description: 'only this resource and what it depends on (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<address>',
    }),
  },
  examples: ['<%= config.bin %> plan cluster.ncl', '<%= config.bin %> plan cluster.ncl -o plan.json'],
});
