import { Args } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Write data to a path',
  spec: 'SV10',
  args: {
    path: Args.string({ description: 'path, e.g. secret/myapp', required: true }),
    data: Args.string({
      description:
        'KEY=VALUE pairs, several allowed; KEY=@file reads the value from a file, - reads a JSON object from stdin',
    }),
  },
  examples: [
    '<%= config.bin %> secret write secret/myapp key=value',
    '<%= config.bin %> secret write secret/tls cert=@server.pem',
  ],
});
