import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Plan the migration from one config to another',
  spec: 'PV10',
  args: {
    current: Args.string({ description: 'current Nickel config', required: true }),
    target: Args.string({ description: 'target Nickel config', required: true }),
  },
  flags: {
    out: Flags.string({ description: 'save the plan to this file', char: 'o', helpValue: '<file>' }),
  },
  examples: [
    '<%= config.bin %> migrate plan current.ncl target.ncl',
    '<%= config.bin %> migrate plan aws.ncl upcloud.ncl -o migration.json',
  ],
});
