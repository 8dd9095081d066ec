import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Add a relation between two nodes',
  spec: 'KG3',
  args: {
    from: Args.string({ description: 'source node id', required: true }),
    to: Args.string({ description: 'target node id', required: true }),
    relation: Args.string({
      description: 'relation: relates_to, depends_on, implements, extends, supersedes, explains (default: relates_to)',
      options: ['relates_to', 'depends_on', 'implements', 'extends', 'supersedes', 'explains'],
      default: 'relates_to',
    }),
  },
  flags: {
    weight: Flags.string({ description: 'relation weight, 0 to 1 (default: 1)', helpValue: '<0..1>' }),
  },
  examples: [
    '<%= config.bin %> link pattern-0003 decision-0012 implements',
    '<%= config.bin %> link note-0042 execution-0007',
  ],
});
