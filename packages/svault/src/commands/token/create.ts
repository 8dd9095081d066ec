import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Create a token with policies and a TTL',
  spec: 'SV5',
  description: 'A child of the token in use unless --orphan: revoking the parent revokes it too.',
  flags: {
    policy: Flags.string({
      description: 'policy to attach (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name>',
    }),
    ttl: Flags.string({ description: 'time to live, e.g. 1h', helpValue: '<duration>' }),
    'explicit-max-ttl': Flags.string({ description: 'hard limit that renewals cannot pass', helpValue: '<duration>' }),
    orphan: Flags.boolean({ description: 'create it without a parent' }),
    'display-name': Flags.string({ description: 'name shown in lookups and the audit log' }),
    metadata: Flags.string({
      description: 'KEY=VALUE metadata (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
  },
  examples: [
    '<%= config.bin %> token create --policy app-read --ttl 1h',
    '<%= config.bin %> token create --orphan --policy ci --ttl 24h',
  ],
});
