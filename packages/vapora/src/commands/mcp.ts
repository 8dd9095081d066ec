import { deniedError, usageError } from '@stratumiops/shared/errors';
import { serveStdio } from '@stratumiops/shared/mcp';
import { VaporaCommand } from '../cli/base.js';
import { PolicySet } from '../core/auth.js';
import { policyFile } from '../runtime.js';
import { createMcpServer } from '../server/mcp.js';

export default class Mcp extends VaporaCommand<typeof Mcp> {
  static override summary = 'Serve vapora to AI assistants over MCP (stdio)';
  static override description =
    'Tools: create_task, list_tasks, task_status, assign_task, run_pipeline, pipeline_status, list_approvals, approve, reject, budget_status, route_preview. Every call acts as one token (VAPORA_TOKEN, else .vapora/token) and obeys its role and projects, locally through the same Cedar policies as the REST API, or against VAPORA_URL where that server decides. Give an assistant its own operator or viewer token (vapora token create). stdout carries only JSON-RPC.';
  static override examples = [
    '<%= config.bin %> mcp',
    'VAPORA_TOKEN=$(vapora token create --name claude --role operator) <%= config.bin %> mcp',
  ];

  async run() {
    const token = this.cfg.token || this.projectToken();
    if (!token) {
      throw usageError('vapora mcp acts as a token and none is set', {
        hint: 'export VAPORA_TOKEN=<token> (vapora token create --name assistant --role operator)',
      });
    }
    const api = await this.api();
    let backend: Parameters<typeof createMcpServer>[0] = { api };
    if (!this.cfg.url) {
      const rt = await this.runtime();
      const caller = await rt.service.authenticate(token);
      if (!caller) throw deniedError('VAPORA_TOKEN is not a valid token of this store (unknown, revoked or expired)');
      backend = { api, caller, policy: await PolicySet.open(policyFile(this.cfg, this.settings.files.project)) };
    }
    await serveStdio(createMcpServer(backend, this.config.version));
  }
}
