import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Delete a node and the relations that point to it',
  spec: 'KG4',
  args: {
    id: Args.string({ description: 'node id', required: true }),
  },
  flags: {
    yes: Flags.boolean({ description: 'delete without asking', char: 'y' }),
  },
  examples: ['<%= config.bin %> delete note-0042', '<%= config.bin %> delete note-0042 --yes'],
});
