import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Release a stuck state lock',
  spec: 'PV3',
  description: 'Shows the owner and age of the lock before releasing it.',
  args: {
    'lock-id': Args.string({
      description: 'lock id, as shown in the error of the command that was refused',
      required: true,
    }),
  },
  flags: {
    yes: Flags.boolean({ description: 'release without asking', char: 'y' }),
  },
  examples: ['<%= config.bin %> state force-unlock 6f1d2c4e'],
});
