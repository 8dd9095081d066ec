import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Run the MCP server on stdio',
  spec: 'KG7',
  description:
    'Tools: search, get_node, add_note, add_decision, add_execution, link, get_guidelines, list_graphs, export; nodes are also MCP resources.',
  examples: ['<%= config.bin %> serve', 'npx @modelcontextprotocol/inspector --cli kogral serve --method tools/list'],
});
