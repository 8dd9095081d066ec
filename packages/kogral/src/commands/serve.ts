import * as Flags from '@oclif/core/flags';
import { parseListen, serveHttpUntilSignal, tokenFromEnv } from '@stratumiops/shared/mcp';
import { KogralCommand } from '../cli/base.js';
import { GraphSet } from '../server/graphs.js';
import { createMcpServer, serveStdio } from '../server/mcp.js';

export default class Serve extends KogralCommand<typeof Serve> {
  static override summary = 'Run the MCP server (stdio, or Streamable HTTP with --http)';
  static override description =
    'Tools: search, get_node, add_note, add_decision, add_execution, link, edit_node, move_node, delete_node, get_guidelines, recent_activity, build_context, list_graphs, switch, export, each with an optional graph argument (other graphs come from [[graphs]] in .kogral/config.toml); prompts postmortem, adr, runbook; resources: the usage guide (kogral://guide) and every node (kogral://node/<id>). Logs go to stderr; on stdio, stdout carries only JSON-RPC. With --http the server listens on loopback by default and every request needs "Authorization: Bearer $KOGRAL_MCP_TOKEN".';
  static override examples = [
    '<%= config.bin %> serve',
    'KOGRAL_MCP_TOKEN=$(openssl rand -hex 24) <%= config.bin %> serve --http 8765',
    'npx @modelcontextprotocol/inspector --cli kogral serve --method tools/list',
  ];
  static override flags = {
    http: Flags.string({
      description:
        'serve Streamable HTTP on [host:]port instead of stdio (host 127.0.0.1 unless given; port 0 picks one)',
      helpValue: '<[host:]port>',
    }),
    'token-env': Flags.string({
      description: 'environment variable holding the bearer token for --http',
      default: 'KOGRAL_MCP_TOKEN',
      helpValue: '<NAME>',
    }),
  };

  async run() {
    const app = await this.app();
    if (!this.flags.http) {
      this.logger.info({ graph: app.dir }, 'MCP server on stdio');
      await serveStdio(app, this.config.version);
      return;
    }
    const { host, port } = parseListen(this.flags.http);
    const token = tokenFromEnv(this.flags['token-env']);
    await app.watch();
    const graphs = new GraphSet(app); // shared by every session; each session has its own current graph
    this.logger.info({ graph: app.dir, host, port }, 'MCP server on Streamable HTTP');
    await serveHttpUntilSignal(() => createMcpServer(app, this.config.version, graphs), { host, port, token });
    process.exit(0); // the graph watcher would keep the process alive
  }
}
