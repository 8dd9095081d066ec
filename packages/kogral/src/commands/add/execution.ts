import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Add an execution record: incident or postmortem',
  spec: 'KG2',
  args: {
    title: Args.string({ description: 'title', required: true }),
  },
  flags: {
    context: Flags.string({ description: 'what happened' }),
    'root-cause': Flags.string({ description: 'root cause' }),
    resolution: Flags.string({ description: 'how it was resolved' }),
    'action-item': Flags.string({
      description: 'follow-up action (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<text>',
    }),
    started: Flags.string({ description: 'when it started (ISO 8601)', helpValue: '<time>' }),
    detected: Flags.string({ description: 'when it was detected (ISO 8601)', helpValue: '<time>' }),
    resolved: Flags.string({ description: 'when it was resolved (ISO 8601)', helpValue: '<time>' }),
    tag: Flags.string({
      description: 'tag (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      char: 't',
      helpValue: '<tag>',
    }),
  },
  examples: [
    '<%= config.bin %> add execution "2026-01-22 PostgreSQL connection pool exhaustion" --root-cause "Connection leak" --tag incident',
  ],
});
