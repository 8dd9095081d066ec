import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'List nodes, filtered by type, tag or status',
  spec: 'KG4',
  flags: {
    type: Flags.string({
      description: 'only this node type',
      options: ['note', 'decision', 'guideline', 'pattern', 'journal', 'execution'],
    }),
    tag: Flags.string({
      description: 'tag (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      char: 't',
      helpValue: '<tag>',
    }),
    status: Flags.string({ description: 'only this status, e.g. accepted' }),
    limit: Flags.integer({ description: 'at most this many', min: 1 }),
  },
  examples: [
    '<%= config.bin %> list --type decision --status accepted',
    '<%= config.bin %> list --type execution --tag incident',
  ],
});
