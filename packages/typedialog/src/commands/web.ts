import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Serve a form as a local web page',
  spec: 'TD2',
  description: 'Listens on loopback unless --host says otherwise; answers are validated by the server too.',
  args: {
    form: Args.string({ description: 'form file (TOML)', required: true }),
  },
  flags: {
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    port: Flags.integer({ description: 'port (default: a free one)', min: 0, max: 65535 }),
    open: Flags.boolean({ description: 'open the page in a browser' }),
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
    '<%= config.bin %> web onboarding.toml --open',
    '<%= config.bin %> web onboarding.toml --port 8080 -o answers.json',
  ],
});
