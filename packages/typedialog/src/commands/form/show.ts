import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: "Show a form's sections and fields",
  spec: 'TD1',
  args: {
    form: Args.string({ description: 'form file (TOML)', required: true }),
  },
  flags: {
    locale: Flags.string({
      description: 'language of the messages, e.g. es-ES (default: from LANG)',
      helpValue: '<locale>',
    }),
  },
  examples: [
    '<%= config.bin %> form show onboarding.toml',
    '<%= config.bin %> form show onboarding.toml --locale es-ES',
  ],
});
