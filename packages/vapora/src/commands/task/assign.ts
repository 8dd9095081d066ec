import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { renderAssign } from '../../cli/assign.js';
import { VaporaCommand } from '../../cli/base.js';
import { roleFlag } from '../../cli/flags.js';

export default class TaskAssign extends VaporaCommand<typeof TaskAssign> {
  static override summary = "Assign a task to the best-scoring agent, showing every candidate's score";
  static override description =
    'score = 0.3·(1 − load) + 0.5·expertise + 0.2·confidence; expertise is the success rate for the task type (last 7 days weighted 3×), confidence = n/(n+5). Offline and stale agents are never chosen. --agent assigns to a given agent instead.';
  static override args = { id: Args.string({ description: 'task id', required: true }) };
  static override flags = {
    agent: Flags.string({ description: 'assign to this agent instead of the best one', helpValue: '<id>' }),
    role: roleFlag("only agents of this role (default: the task's)"),
    'dry-run': Flags.boolean({ description: 'show the scores without assigning' }),
  };
  static override examples = [
    '<%= config.bin %> task assign t-4k9x2m1p',
    '<%= config.bin %> task assign t-4k9x2m1p --dry-run',
  ];

  async run() {
    const api = await this.api({ bus: Boolean(this.cfg.nats.url) });
    const r = await api.assign(this.args.id, {
      agentId: this.flags.agent,
      role: this.flags.role,
      dryRun: this.flags['dry-run'],
    });
    renderAssign(
      r,
      (s) => this.log(s),
      (rows) => this.table(rows),
    );
    return r;
  }
}
