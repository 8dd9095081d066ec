import * as Args from '@oclif/core/args';
import { VaporaCommand } from '../../cli/base.js';

export default class AgentShow extends VaporaCommand<typeof AgentShow> {
  static override summary = 'Show an agent: role, provider, status, current tasks';
  static override args = { id: Args.string({ description: 'agent id', required: true }) };
  static override examples = ['<%= config.bin %> agent show reviewer-1'];

  async run() {
    const service = await this.api();
    const h = await service.agentHealth(this.args.id);
    const a = h.agent;
    this.log(
      `${a.id}  ${a.role}  ${a.provider} ${a.model}  ${a.status}${h.stale ? ' (stale)' : ''}  load ${a.load.toFixed(2)}`,
    );
    this.log(`current tasks: ${h.current_tasks.join(', ') || 'none'}`);
    return h;
  }
}
