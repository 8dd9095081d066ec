import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: "Set a secret's metadata: max_versions, check-and-set, custom metadata",
  spec: 'SV8',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/db', required: true }),
  },
  flags: {
    'max-versions': Flags.integer({ description: 'versions to keep (default for the mount: 10)', min: 0 }),
    'cas-required': Flags.boolean({ description: 'require --cas on every write' }),
    'delete-version-after': Flags.string({
      description: 'soft-delete versions this long after they are written, e.g. 720h',
      helpValue: '<duration>',
    }),
    custom: Flags.string({
      description: 'custom metadata KEY=VALUE (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
  },
  examples: [
    '<%= config.bin %> kv metadata put secret/db --max-versions 5',
    '<%= config.bin %> kv metadata put secret/db --custom owner=platform',
  ],
});
