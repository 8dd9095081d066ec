import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { VaporaCommand } from '../cli/base.js';
import { ROLES } from '../core/roles.js';

export default class Expertise extends VaporaCommand<typeof Expertise> {
  static override summary = 'Show expertise profiles: success rate and confidence by agent and task type';
  static override description = 'Built from execution history, the last 7 days weighted 3×; confidence = n/(n+5).';
  static override args = { role: Args.string({ description: 'only this role', options: [...ROLES] }) };
  static override flags = { agent: Flags.string({ description: 'only this agent', helpValue: '<id>' }) };
  static override examples = ['<%= config.bin %> expertise', '<%= config.bin %> expertise code-reviewer --json'];

  async run() {
    const service = await this.api();
    const rows = await service.expertise(this.flags.agent ?? this.args.role);
    this.table(
      rows.map((r) => ({
        agent: r.agent_id,
        role: r.role,
        'task type': r.task_type,
        n: r.executions,
        recent: r.recent,
        success: `${Math.round(r.success_rate * 100)}%`,
        expertise: r.expertise.toFixed(3),
        confidence: r.confidence.toFixed(3),
      })),
      undefined,
      'no executions yet',
    );
    return { expertise: rows };
  }
}
