import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Add to a day's journal entry (one per day)",
  spec: 'KG2',
  args: {
    date: Args.string({ description: 'day, YYYY-MM-DD (default: today)' }),
  },
  flags: {
    body: Flags.string({ description: 'markdown body, or - for stdin; prompted for when omitted' }),
    tag: Flags.string({
      description: 'tag (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      char: 't',
      helpValue: '<tag>',
    }),
  },
  examples: [
    '<%= config.bin %> add journal --body "Rotated DB credentials after the incident"',
    '<%= config.bin %> add journal 2026-01-22',
  ],
});
