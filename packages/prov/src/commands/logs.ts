import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: "Show a resource's logs",
  spec: 'PV9',
  args: {
    resource: Args.string({ description: 'resource address or id', required: true }),
  },
  flags: {
    follow: Flags.boolean({ description: 'keep printing new lines', char: 'f' }),
    lines: Flags.integer({ description: 'lines from the end', char: 'n', default: 100, min: 1 }),
    since: Flags.string({ description: 'only newer lines, e.g. 1h', helpValue: '<duration>' }),
  },
  examples: ['<%= config.bin %> logs servers.web-01', '<%= config.bin %> logs servers.web-01 -f'],
});
