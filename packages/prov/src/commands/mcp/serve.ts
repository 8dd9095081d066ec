import * as Flags from '@oclif/core/flags';
import * as mcp from '@stratumiops/shared/mcp';
import { clusterFlags } from '../../cli/cluster.js';
import { WorkflowCommand } from '../../cli/workflow.js';
import { executeWorkflow, WorkflowRuns } from '../../core/workflow.js';
import { createMcpServer, type ProvMcpBackend, type WorkflowCall, type WorkflowOutcome } from '../../server/mcp.js';

export default class McpServe extends WorkflowCommand<typeof McpServe> {
  static override summary = 'Serve prov to AI assistants over MCP (stdio, or Streamable HTTP with --http)';
  static override description =
    'Tools: validate_config (prov validate\'s checks on a config text or a workspace file: every error with line and nearest name), query_infrastructure (state rows by provider, zone, status, service; every answer cites its state rows), generate_config (a config drafted by the [llm] model, repaired with the validation errors until it validates, at most llm.max_rounds drafts; only a valid config is returned), estimate_cost (prov estimate), check_compliance (prov compliance, findings at file:line), plan_migration (prov migrate plan) and execute_workflow (a dry run listing the steps; a real run only with --allow-execute, through the orchestrator with checkpoints and rollback, each step reported as an MCP progress notification). Paths are confined to the working directory (the workspace). On stdio, stdout carries only JSON-RPC. With --http the server listens on loopback by default and every request needs "Authorization: Bearer $PROV_MCP_TOKEN".';
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
    'allow-execute': Flags.boolean({
      description: 'let execute_workflow run workflows (without it, only dry runs are answered)',
    }),
    file: clusterFlags.file,
    'accept-new-host-keys': clusterFlags['accept-new-host-keys'],
  };
  static override examples = [
    '<%= config.bin %> mcp serve',
    'PROV_LLM_PROVIDER=anthropic PROV_LLM_MODEL=claude-sonnet-4-6 <%= config.bin %> mcp serve',
    'PROV_MCP_TOKEN=$(openssl rand -hex 24) <%= config.bin %> mcp serve --http 8766',
    '<%= config.bin %> mcp serve --allow-execute -f prov.ncl',
  ];

  async run() {
    const backend: ProvMcpBackend = {
      ...(await this.assistBackend()),
      allowExecute: this.flags['allow-execute'],
      workflow: (req, onEvent) => this.workflow(req, onEvent),
    };
    if (!this.flags.http) {
      await mcp.serveStdio(createMcpServer(backend, this.config.version));
      return;
    }
    const { host, port } = mcp.parseListen(this.flags.http);
    const token = mcp.tokenFromEnv(this.flags['token-env']);
    await mcp.serveHttpUntilSignal(() => createMcpServer(backend, this.config.version), { host, port, token });
  }

  /** What `prov workflow run` does, for execute_workflow: events go to the caller instead of stderr. */
  private async workflow(
    req: WorkflowCall,
    onEvent: Parameters<ProvMcpBackend['workflow']>[1],
  ): Promise<WorkflowOutcome> {
    const { runtime } = await this.clusterContext();
    try {
      const { def, place, tasks, run } = await this.prepareWorkflow(runtime, req);
      if (req.dryRun)
        return {
          dry_run: true,
          workflow: def.name,
          description: def.description,
          tasks: tasks.map((t) => ({ id: t.id, kind: t.kind, deps: t.deps })),
        };
      const deps = await this.deps(runtime, place);
      const out = await this.underStateLock(run.id, `workflow ${def.name}`, () =>
        executeWorkflow(WorkflowRuns.forWorkspace(), run, { ...deps, onEvent: (e) => onEvent(e, tasks.length) }),
      );
      return { dry_run: false, run: out };
    } finally {
      await runtime.close();
    }
  }
}
