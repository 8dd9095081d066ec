import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { roleFlag } from '../flags.js';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Show which provider and model a request goes to, and why',
  spec: 'VP3',
  description:
    "Applies the routing rules and the role's budget state (normal, near threshold, exceeded). With --prompt, the request is also sent and its cost recorded.",
  args: {
    'task-type': Args.string({ description: 'task type, matched against the routing rules', required: true }),
  },
  flags: {
    role: roleFlag('role making the request'),
    prompt: Flags.string({ description: 'send this prompt and print the reply, or - for stdin' }),
  },
  examples: [
    '<%= config.bin %> route code-review --role code-reviewer',
    '<%= config.bin %> route summarize --role documenter --prompt "Summarize: ..."',
  ],
});
