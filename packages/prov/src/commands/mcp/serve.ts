import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Run the MCP server on stdio',
  spec: 'PV11',
  description:
    'Tools: query_infrastructure, generate_config, validate_config, estimate_cost, check_compliance, plan_migration, execute_workflow (a dry run unless told otherwise).',
  examples: ['<%= config.bin %> mcp serve'],
});
