import { ProvCommand } from '../../base.js';

export default class McpServe extends ProvCommand<typeof McpServe> {
  static override summary = 'Serve prov to AI assistants over MCP (stdio)';
  static override description =
    "Tools: validate_config (prov validate's checks on a config text or a workspace file: every error with line and nearest name), query_infrastructure (state rows by provider, zone, status, service; every answer cites its state rows) and generate_config (a config drafted by the [llm] model, repaired with the validation errors until it validates, at most llm.max_rounds drafts; only a valid config is returned). Not served yet (planned: PV11, waiting on the estimate, compliance, migrate and workflow features): estimate_cost, check_compliance, plan_migration, execute_workflow. Paths are confined to the working directory (the workspace). stdout carries only JSON-RPC.";
  static override examples = [
    '<%= config.bin %> mcp serve',
    'PROV_LLM_PROVIDER=anthropic PROV_LLM_MODEL=claude-sonnet-4-6 <%= config.bin %> mcp serve',
  ];

  async run() {
    const { createMcpServer } = await import('../../server/mcp.js');
    const { serveStdio } = await import('@stratumiops/shared/mcp');
    await serveStdio(createMcpServer(await this.assistBackend(), this.config.version));
  }
}
