import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Show agents by role and status, their load and queued tasks',
  spec: 'VP2',
  examples: ['<%= config.bin %> swarm status', '<%= config.bin %> swarm status --json'],
});
