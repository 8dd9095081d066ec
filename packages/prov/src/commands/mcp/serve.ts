import { Flags } from '@oclif/core';
import { ProvCommand } from '../../base.js';

export default class McpServe extends ProvCommand<typeof McpServe> {
  static override summary = 'Serve prov to AI assistants over MCP (stdio, or Streamable HTTP with --http)';
  static override description =
    'Tools: validate_config (prov validate\'s checks on a config text or a workspace file: every error with line and nearest name), query_infrastructure (state rows by provider, zone, status, service; every answer cites its state rows), generate_config (a config drafted by the [llm] model, repaired with the validation errors until it validates, at most llm.max_rounds drafts; only a valid config is returned), estimate_cost (prov estimate), check_compliance (prov compliance, findings at file:line) and plan_migration (prov migrate plan). Paths are confined to the working directory (the workspace). On stdio, stdout carries only JSON-RPC. With --http the server listens on loopback by default and every request needs "Authorization: Bearer $PROV_MCP_TOKEN".';
  static override flags = {
    http: Flags.string({
      description:
        'serve Streamable HTTP on [host:]port instead of stdio (host 127.0.0.1 unless given; port 0 picks one)',
      helpValue: '<[host:]port>',
    }),
    'token-env': Flags.string({
      description: 'environment variable holding the bearer token for --http',
      default: 'PROV_MCP_TOKEN',
      helpValue: '<NAME>',
    }),
  };
  static override examples = [
    '<%= config.bin %> mcp serve',
    'PROV_LLM_PROVIDER=anthropic PROV_LLM_MODEL=claude-sonnet-4-6 <%= config.bin %> mcp serve',
    'PROV_MCP_TOKEN=$(openssl rand -hex 24) <%= config.bin %> mcp serve --http 8766',
  ];

  async run() {
    const { createMcpServer } = await import('../../server/mcp.js');
    const mcp = await import('@stratumiops/shared/mcp');
    const backend = await this.assistBackend();
    if (!this.flags.http) {
      await mcp.serveStdio(createMcpServer(backend, this.config.version));
      return;
    }
    const { host, port } = mcp.parseListen(this.flags.http);
    const token = mcp.tokenFromEnv(this.flags['token-env']);
    await mcp.serveHttpUntilSignal(() => createMcpServer(backend, this.config.version), { host, port, token });
  }
}
