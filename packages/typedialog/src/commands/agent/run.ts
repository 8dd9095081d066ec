import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Run an MDX agent: fill its variables, call the LLM, validate the output',
  spec: 'TD6',
  description: "The LLM is called through Vapora's provider layer; the output is checked against the agent's schema.",
  args: {
    agent: Args.string({ description: 'agent file (.mdx)', required: true }),
  },
  flags: {
    form: Flags.string({ description: 'form that asks for the variables', helpValue: '<file>' }),
    var: Flags.string({
      description: 'variable KEY=VALUE (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    answers: Flags.string({
      description: 'answers file (.json, .yaml, .toml), validated exactly like typed answers',
      char: 'a',
      helpValue: '<file>',
    }),
    model: Flags.string({ description: "use this model instead of the frontmatter's" }),
    output: Flags.string({
      description: 'write the result to this file instead of stdout',
      char: 'o',
      helpValue: '<file>',
    }),
  },
  examples: [
    '<%= config.bin %> agent run agents/code_reviewer.mdx --var file=src/main.ts',
    '<%= config.bin %> agent run agents/runbook.mdx --form forms/incident.toml',
  ],
});
