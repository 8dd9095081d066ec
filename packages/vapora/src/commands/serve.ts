import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Run the REST API, Prometheus metrics and the kanban web UI',
  spec: 'VP8',
  flags: {
    host: Flags.string({ description: 'address to listen on (default: 127.0.0.1)' }),
    port: Flags.integer({ description: 'port to listen on', min: 0, max: 65535 }),
    'no-ui': Flags.boolean({ description: 'serve the API only' }),
  },
  examples: ['<%= config.bin %> serve', '<%= config.bin %> serve --host 0.0.0.0 --port 8001'],
});
