import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Report an agent's status and load",
  spec: 'VP1',
  args: {
    id: Args.string({ description: 'agent id', required: true }),
  },
  flags: {
    status: Flags.string({ description: 'status', options: ['ready', 'busy', 'offline'], default: 'ready' }),
    load: Flags.string({ description: 'current load, 0 to 1', helpValue: '<0..1>' }),
  },
  examples: [
    '<%= config.bin %> agent heartbeat reviewer-1',
    '<%= config.bin %> agent heartbeat reviewer-1 --status busy --load 0.7',
  ],
});
