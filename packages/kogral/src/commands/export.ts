import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Export the graph as markdown, JSON or YAML',
  spec: 'KG10',
  flags: {
    format: Flags.string({ description: 'output format', options: ['markdown', 'json', 'yaml'], default: 'markdown' }),
    output: Flags.string({
      description: 'file (json, yaml) or folder (markdown); default: stdout',
      char: 'o',
      helpValue: '<path>',
    }),
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
  },
  examples: [
    '<%= config.bin %> export --format markdown -o /docs/ops-knowledge/',
    '<%= config.bin %> export --format json --type decision > adrs.json',
  ],
});
