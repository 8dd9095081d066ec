import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Remove a relation between two nodes',
  spec: 'KG3',
  args: {
    from: Args.string({ description: 'source node id', required: true }),
    to: Args.string({ description: 'target node id', required: true }),
    relation: Args.string({
      description:
        'only this relation (default: all of them): relates_to, depends_on, implements, extends, supersedes, explains',
      options: ['relates_to', 'depends_on', 'implements', 'extends', 'supersedes', 'explains'],
    }),
  },
  examples: ['<%= config.bin %> unlink pattern-0003 decision-0012 implements'],
});
