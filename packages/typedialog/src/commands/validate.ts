import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Check a form file, and optionally an answers file against it',
  spec: 'TD1',
  description:
    'Reports unknown field types, bad validation rules and conditions, and with --answers every answer that the form would refuse (zod and Nickel contract checks).',
  args: {
    form: Args.string({ description: 'form file (TOML)', required: true }),
  },
  flags: {
    answers: Flags.string({
      description: 'answers file (.json, .yaml, .toml), validated exactly like typed answers',
      char: 'a',
      helpValue: '<file>',
    }),
  },
  examples: [
    '<%= config.bin %> validate onboarding.toml',
    '<%= config.bin %> validate onboarding.toml --answers answers.json',
  ],
});
