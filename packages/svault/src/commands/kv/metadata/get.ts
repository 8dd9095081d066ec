import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: "Show a secret's metadata: versions, max_versions, custom metadata",
  spec: 'SV8',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/db', required: true }),
  },
  examples: ['<%= config.bin %> kv metadata get secret/db'],
});
