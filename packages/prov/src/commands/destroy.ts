import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Delete all resources a config manages',
  spec: 'PV4',
  args: {
    config: Args.string({ description: 'Nickel config file, e.g. cluster.ncl', required: true }),
  },
  flags: {
    'auto-approve': Flags.boolean({ description: 'destroy without asking', char: 'y' }),
    parallelism: Flags.integer({ description: 'tasks run at the same time', default: 10, min: 1 }),
    target: Flags.string({
      description: 'only this resource and what it depends on (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<address>',
    }),
  },
  aliases: ['down'],
  examples: ['<%= config.bin %> destroy cluster.ncl', '<%= config.bin %> destroy cluster.ncl --target servers.web-01'],
});
