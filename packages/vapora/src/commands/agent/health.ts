import * as Args from '@oclif/core/args';
import { VaporaCommand } from '../../cli/base.js';

export default class AgentHealth extends VaporaCommand<typeof AgentHealth> {
  static override summary = "Show an agent's health: status, heartbeat age, current tasks, success rate";
  static override description = 'Exit code 0 when healthy, 7 when offline or its heartbeat is stale.';
  static override args = { id: Args.string({ description: 'agent id', required: true }) };
  static override examples = ['<%= config.bin %> agent health devops-4k2m'];

  async run() {
    const service = await this.api();
    const h = await service.agentHealth(this.args.id);
    const a = h.agent;
    this.log(`${a.id}: ${h.healthy ? 'healthy' : 'UNHEALTHY'} (${a.status}${h.stale ? ', stale heartbeat' : ''})`);
    this.log(`  role ${a.role}, ${a.provider} ${a.model}, load ${a.load.toFixed(2)} of capacity ${a.capacity}`);
    this.log(
      `  last heartbeat: ${h.heartbeat_age_s === null ? 'never' : `${h.heartbeat_age_s}s ago`} (timeout ${h.heartbeat_timeout_s}s)`,
    );
    this.log(`  current tasks: ${h.current_tasks.join(', ') || 'none'}`);
    const e = h.executions;
    this.log(
      `  executions: ${e.total}${e.success_rate === null ? '' : `, ${Math.round(e.success_rate * 100)}% success`}`,
    );
    if (!h.healthy) {
      if (this.jsonEnabled()) this.logJson(h);
      this.exit(7);
    }
    return h;
  }
}
