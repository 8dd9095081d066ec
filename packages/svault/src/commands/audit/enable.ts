import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Enable a file audit device',
  spec: 'SV7',
  description:
    "One JSON line per request and response, secret values HMAC-SHA256'd, each line hash-chained to the one before. A request fails if its line cannot be written.",
  args: {
    file: Args.string({ description: 'log file, e.g. /var/log/svault/audit.log', required: true }),
  },
  flags: {
    path: Flags.string({ description: 'where to mount the device (default: file/)' }),
    retention: Flags.string({ description: 'how long lines are kept, e.g. 61320h (7 years)', helpValue: '<duration>' }),
  },
  examples: [
    '<%= config.bin %> audit enable /var/log/svault/audit.log',
    '<%= config.bin %> audit enable /var/log/svault/audit.log --path file2/',
  ],
});
