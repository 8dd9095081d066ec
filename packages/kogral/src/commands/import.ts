import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Import a Logseq, Obsidian, markdown or ADR folder',
  spec: 'KG10',
  args: {
    path: Args.string({ description: 'folder to import', required: true }),
  },
  flags: {
    from: Flags.string({
      description: 'source format (default: detected)',
      options: ['logseq', 'obsidian', 'markdown', 'adr'],
    }),
    type: Flags.string({
      description: 'node type for plain markdown files',
      options: ['note', 'decision', 'guideline', 'pattern', 'journal', 'execution'],
      default: 'note',
    }),
    'dry-run': Flags.boolean({ description: 'show what would be imported' }),
  },
  examples: [
    '<%= config.bin %> import ~/logseq-graph --from logseq',
    '<%= config.bin %> import docs/adr --from adr --dry-run',
  ],
});
