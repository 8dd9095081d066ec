import * as Flags from '@oclif/core/flags';
import { ago, VaporaCommand } from '../../cli/base.js';
import { roleFlag } from '../../cli/flags.js';
import { AGENT_STATUSES } from '../../core/model.js';

export default class AgentList extends VaporaCommand<typeof AgentList> {
  static override summary = 'List agents with role, status, load and last heartbeat';
  static override flags = {
    role: roleFlag('only this role'),
    status: Flags.string({ description: 'only this status', options: [...AGENT_STATUSES] }),
  };
  static override examples = [
    '<%= config.bin %> agent list',
    '<%= config.bin %> agent list --role devops --status ready',
  ];

  async run() {
    const service = await this.api();
    const agents = await service.listAgents({ role: this.flags.role, status: this.flags.status });
    this.table(
      agents.map((a) => ({
        id: a.id,
        role: a.role,
        provider: a.provider,
        model: a.model,
        status: a.stale && a.status !== 'offline' ? `${a.status} (stale)` : a.status,
        load: a.load.toFixed(2),
        heartbeat: ago(a.lastHeartbeat),
      })),
      undefined,
      'no agents (add one: vapora agent add --role <role>)',
    );
    return { agents };
  }
}
