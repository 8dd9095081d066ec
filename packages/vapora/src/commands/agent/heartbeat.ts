import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { VaporaCommand } from '../../cli/base.js';
import { AGENT_STATUSES } from '../../core/model.js';

export default class AgentHeartbeat extends VaporaCommand<typeof AgentHeartbeat> {
  static override summary = "Report an agent's status and load";
  static override args = { id: Args.string({ description: 'agent id', required: true }) };
  static override flags = {
    status: Flags.string({ description: 'status', options: [...AGENT_STATUSES], default: 'ready' }),
    load: Flags.string({ description: 'current load, 0 to 1', helpValue: '<0..1>' }),
  };
  static override examples = [
    '<%= config.bin %> agent heartbeat reviewer-1',
    '<%= config.bin %> agent heartbeat reviewer-1 --status busy --load 0.7',
  ];

  async run() {
    const service = await this.api();
    const load = this.flags.load === undefined ? undefined : Number(this.flags.load);
    const a = await service.heartbeat(this.args.id, {
      status: this.flags.status,
      ...(load === undefined ? {} : { load }),
    });
    this.log(`${a.id}: ${a.status}, load ${a.load.toFixed(2)}`);
    return a;
  }
}
