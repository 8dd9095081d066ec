import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Fill in a form with one of the backends',
  spec: 'TD2',
  description:
    'The same form file drives every backend. Off a terminal, pass --answers or --defaults: missing answers are an error, not a prompt.',
  args: {
    form: Args.string({ description: 'form file (TOML)', required: true }),
  },
  flags: {
    backend: Flags.string({
      description: 'how to ask (ai is another name for agent)',
      options: ['cli', 'tui', 'web', 'agent', 'ai', 'prov-gen'],
      default: 'cli',
    }),
    answers: Flags.string({
      description: 'answers file (.json, .yaml, .toml), validated exactly like typed answers',
      char: 'a',
      helpValue: '<file>',
    }),
    defaults: Flags.boolean({ description: "use each field's default instead of asking" }),
    output: Flags.string({
      description: 'write the result to this file instead of stdout',
      char: 'o',
      helpValue: '<file>',
    }),
    format: Flags.string({
      description: 'output format',
      options: ['json', 'yaml', 'toml', 'nickel'],
      default: 'json',
    }),
    locale: Flags.string({
      description: 'language of the messages, e.g. es-ES (default: from LANG)',
      helpValue: '<locale>',
    }),
  },
  examples: [
    '<%= config.bin %> run onboarding.toml --backend tui -o answers.yaml --format yaml',
    '<%= config.bin %> run onboarding.toml --answers answers.json --format nickel',
  ],
});
