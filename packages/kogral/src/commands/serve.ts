import { KogralCommand } from '../cli/base.js';

export default class Serve extends KogralCommand<typeof Serve> {
  static override summary = 'Run the MCP server on stdio';
  static override description =
    'Tools: search, get_node, add_note, add_decision, add_execution, link, get_guidelines, list_graphs, export; nodes are also resources (kogral://node/<id>). Logs go to stderr; stdout carries only JSON-RPC.';
  static override examples = [
    '<%= config.bin %> serve',
    'npx @modelcontextprotocol/inspector --cli kogral serve --method tools/list',
  ];

  async run() {
    const app = await this.app();
    const { serveStdio } = await import('../server/mcp.js');
    this.logger.info({ graph: app.dir }, 'MCP server on stdio');
    await serveStdio(app, this.config.version);
  }
}
