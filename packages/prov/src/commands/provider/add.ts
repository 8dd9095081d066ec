import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Configure a provider and where its credentials come from',
  spec: 'PV6',
  description:
    'Credentials come from the environment, the config or svault; they are never written to state in plaintext.',
  args: {
    name: Args.string({
      description: 'provider: aws, upcloud or local',
      options: ['aws', 'upcloud', 'local'],
      required: true,
    }),
  },
  flags: {
    region: Flags.string({ description: 'default region, e.g. eu-west-1 or de-fra1' }),
    'from-vault': Flags.string({ description: 'svault path holding the credentials', helpValue: '<path>' }),
    host: Flags.string({
      description: 'local: an SSH host, user@host[:port] (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<user@host>',
    }),
    'ssh-key': Flags.string({ description: 'local: private key file', helpValue: '<file>' }),
  },
  examples: [
    '<%= config.bin %> provider add aws --region eu-west-1',
    '<%= config.bin %> provider add upcloud --from-vault secret/prov/upcloud',
  ],
});
