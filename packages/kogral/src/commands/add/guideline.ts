import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Add a guideline: a team or org standard',
  spec: 'KG2',
  args: {
    title: Args.string({ description: 'title', required: true }),
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
  examples: ['<%= config.bin %> add guideline "Kubernetes deployments use resource limits" --tag kubernetes'],
});
