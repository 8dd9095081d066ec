import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Estimate the monthly cost of a config',
  spec: 'PV10',
  description: 'From the price table of each provider, plan and region.',
  args: {
    config: Args.string({ description: 'Nickel config file, e.g. cluster.ncl', required: true }),
  },
  flags: {
    region: Flags.string({ description: 'price in this region instead of the configured one' }),
  },
  aliases: ['cost', 'mcp:estimate'],
  examples: [
    '<%= config.bin %> estimate cluster.ncl',
    '<%= config.bin %> estimate cluster.ncl --region us-east-1 --json',
  ],
});
