import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: "Delete a secret's metadata and all its versions",
  spec: 'SV8',
  args: {
    path: Args.string({ description: 'secret path, e.g. secret/db', required: true }),
  },
  examples: ['<%= config.bin %> kv metadata delete secret/db'],
});
