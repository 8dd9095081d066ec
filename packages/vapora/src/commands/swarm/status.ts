import { VaporaCommand } from '../../cli/base.js';

export default class SwarmStatus extends VaporaCommand<typeof SwarmStatus> {
  static override summary = 'Show agents by role and status, their load and queued tasks';
  static override examples = ['<%= config.bin %> swarm status', '<%= config.bin %> swarm status --json'];

  async run() {
    const service = await this.api();
    const s = await service.swarmStatus();
    this.table(
      Object.entries(s.by_role).map(([role, c]) => ({ role, ...c, load: c.load.toFixed(2) })),
      undefined,
      'no agents',
    );
    this.log(`tasks: ${s.tasks.todo} todo, ${s.tasks.doing} doing (${s.tasks.undispatched} waiting for dispatch)`);
    return s;
  }
}
