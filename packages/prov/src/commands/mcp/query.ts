import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ProvCommand } from '../../cli/base.js';
import { queryInfrastructure } from '../../server/mcp.js';

export default class McpQuery extends ProvCommand<typeof McpQuery> {
  static override summary = 'Ask about the infrastructure in plain language';
  static override description =
    'An inventory question is answered exactly from the recorded state, not by a model: its words become filters (kind, provider, zone or region, status, service, server name, from the values state holds), and every resource listed cites its state row (state:<address>). Any other question ("postgresql refuses connections after a failover") gets ranked facts from state, the team\'s runbooks, ADRs and postmortems in kogral (knowledge.kogral_dir in prov.toml, or PROV_KOGRAL_DIR) and prov.ncl, each citing its source. The query_infrastructure tool of prov mcp serve.';
  static override args = {
    question: Args.string({ description: 'question', required: true }),
  };
  static override flags = {
    provider: Flags.string({ description: 'only this provider', options: ['aws', 'upcloud', 'local'] }),
  };
  static override examples = [
    '<%= config.bin %> mcp query "Show me all AWS servers in us-east-1"',
    '<%= config.bin %> mcp query "which servers run etcd" --json',
    'PROV_KOGRAL_DIR=../team-kb <%= config.bin %> mcp query "postgresql refuses connections after a failover"',
  ];

  async run() {
    const b = await this.assistBackend();
    const store = await b.openStore();
    try {
      const r = await queryInfrastructure(
        store,
        { query: this.args.question, ...(this.flags.provider ? { provider: this.flags.provider as 'aws' } : {}) },
        b.querySources(),
      );
      if (!this.jsonEnabled()) this.log(r.text);
      return r;
    } finally {
      await store.close();
    }
  }
}
