import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: "Generate Nickel infrastructure files from a form's answers",
  spec: 'TD5',
  description:
    'Answers become an infrastructure config, rendered with the templates of the provider into Nickel files that are validated against the schemas before they are written.',
  args: {
    form: Args.string({ description: 'form file (TOML)', required: true }),
  },
  flags: {
    provider: Flags.string({
      description: 'target provider',
      options: ['aws', 'gcp', 'azure', 'hetzner', 'upcloud', 'lxd'],
    }),
    answers: Flags.string({
      description: 'answers file (.json, .yaml, .toml), validated exactly like typed answers',
      char: 'a',
      helpValue: '<file>',
    }),
    defaults: Flags.boolean({ description: "use each field's default instead of asking" }),
    'output-dir': Flags.string({
      description: 'folder to write the Nickel files to',
      char: 'o',
      default: 'infra',
      helpValue: '<dir>',
    }),
    templates: Flags.string({
      description: 'use templates from this folder instead of the built-in ones',
      helpValue: '<dir>',
    }),
    schemas: Flags.string({ description: 'schemas to validate against', default: 'schemas', helpValue: '<dir>' }),
    'dry-run': Flags.boolean({ description: 'print the files instead of writing them' }),
  },
  examples: [
    '<%= config.bin %> prov-gen infra.toml --provider upcloud -o infra/',
    '<%= config.bin %> prov-gen infra.toml --provider aws --answers answers.yaml --dry-run',
  ],
});
