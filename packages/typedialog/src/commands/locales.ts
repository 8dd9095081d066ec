import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'List the locales of a form and the messages each one lacks',
  spec: 'TD7',
  args: {
    form: Args.string({ description: 'form file (TOML)', required: true }),
  },
  flags: {
    locale: Flags.string({
      description: 'language of the messages, e.g. es-ES (default: from LANG)',
      helpValue: '<locale>',
    }),
  },
  examples: ['<%= config.bin %> locales onboarding.toml', '<%= config.bin %> locales onboarding.toml --locale es-ES'],
});
