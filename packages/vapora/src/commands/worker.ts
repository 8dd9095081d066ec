import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { roleFlag } from '../flags.js';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Run an agent worker that takes tasks from the queue',
  spec: 'VP5',
  flags: {
    role: roleFlag('role to work as', true),
    agent: Flags.string({ description: 'agent id (default: registers a new agent)', helpValue: '<id>' }),
    concurrency: Flags.integer({ description: 'tasks at the same time', default: 1, min: 1 }),
    nats: Flags.string({ description: 'NATS server URL (default: from config)', helpValue: '<url>' }),
  },
  examples: [
    '<%= config.bin %> worker --role developer',
    '<%= config.bin %> worker --role security --nats nats://localhost:4222 --concurrency 2',
  ],
});
