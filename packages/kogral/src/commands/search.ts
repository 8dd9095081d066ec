import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Search nodes by text, or by meaning with --semantic',
  spec: 'KG5',
  description:
    'Text search is ranked by BM25, with highlighted snippets. --semantic ranks by embeddings (KG6) fused with the text rank.',
  args: {
    query: Args.string({ description: 'what to look for', required: true }),
  },
  flags: {
    semantic: Flags.boolean({ description: 'rank by meaning as well as by words' }),
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
    limit: Flags.integer({ description: 'at most this many results', default: 10, min: 1 }),
  },
  examples: [
    '<%= config.bin %> search "nginx 502" --type note',
    '<%= config.bin %> search --semantic "database connections running out"',
  ],
});
