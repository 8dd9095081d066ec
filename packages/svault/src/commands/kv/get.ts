import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Read a secret from a KV v2 mount',
  spec: 'SV8',
  args: { path: Args.string({ description: 'secret path, e.g. secret/db', required: true }) },
  flags: { version: Flags.integer({ description: 'version to read (default: latest)' }) },
  examples: ['<%= config.bin %> kv get secret/db', '<%= config.bin %> kv get secret/db --version 2 --json'],
});
