import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Add a decision record (ADR): context, decision, consequences',
  spec: 'KG2',
  args: {
    title: Args.string({ description: 'title', required: true }),
  },
  flags: {
    context: Flags.string({ description: 'why a decision is needed; prompted for when omitted' }),
    decision: Flags.string({ description: 'what was decided; prompted for when omitted' }),
    consequences: Flags.string({ description: 'what follows from it; prompted for when omitted' }),
    status: Flags.string({
      description: 'status',
      options: ['proposed', 'accepted', 'superseded', 'deprecated'],
      default: 'proposed',
    }),
    supersedes: Flags.string({
      description: 'id of the decision this one replaces (its status becomes superseded)',
      helpValue: '<id>',
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
    '<%= config.bin %> add decision "Choose Cilium over Calico for CNI" --status accepted',
    '<%= config.bin %> add decision "Move to PostgreSQL 16" --supersedes decision-0007',
  ],
});
