import { Flags } from '@oclif/core';
import { usageError } from '@stratumiops/shared/errors';
import { KogralCommand } from '../cli/base.js';

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
    const [{ createMcpServer, serveStdio }, { GraphSet }] = await Promise.all([
      import('../server/mcp.js'),
      import('../server/graphs.js'),
    ]);
    if (!this.flags.http) {
      this.logger.info({ graph: app.dir }, 'MCP server on stdio');
      await serveStdio(app, this.config.version);
      return;
    }
    const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(this.flags.http);
    const port = Number(m?.[2]);
    if (!m || port > 65535)
      throw usageError(`--http '${this.flags.http}' is not [host:]port`, { hint: 'e.g. --http 8765' });
    const host = m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
    const token = process.env[this.flags['token-env']];
    if (!token)
      throw usageError(`--http needs a bearer token in $${this.flags['token-env']}`, {
        hint: `export ${this.flags['token-env']}=$(openssl rand -hex 24)`,
      });
    const { serveHttp } = await import('@stratumiops/shared/mcp');
    await app.watch();
    const graphs = new GraphSet(app); // shared by every session; each session has its own current graph
    const server = await serveHttp(() => createMcpServer(app, this.config.version, graphs), { host, port, token });
    this.logger.info({ graph: app.dir, url: server.url }, 'MCP server on Streamable HTTP');
    process.stdout.write(`${server.url}\n`);
    await new Promise<void>((resolve) => {
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve());
    });
    await server.close();
    process.exit(0); // the graph watcher would keep the process alive
  }
}
