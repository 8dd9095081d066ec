import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { renderAssign } from '../../cli/assign.js';
import { VaporaCommand } from '../../cli/base.js';
import { roleFlag } from '../../cli/flags.js';

export default class SwarmAssign extends VaporaCommand<typeof SwarmAssign> {
  static override summary = 'Assign a task to the best-scoring agent, showing the scores';
  static override description = 'Same as task assign: score = 0.3·(1 − load) + 0.5·expertise + 0.2·confidence.';
  static override args = { task: Args.string({ description: 'task id', required: true }) };
  static override flags = {
    role: roleFlag("only agents of this role (default: the task's)"),
    'dry-run': Flags.boolean({ description: 'show the scores without assigning' }),
  };
  static override examples = [
    '<%= config.bin %> swarm assign t-4k9x2m1p',
    '<%= config.bin %> swarm assign t-4k9x2m1p --dry-run',
  ];

  async run() {
    const api = await this.api({ bus: Boolean(this.cfg.nats.url) });
    const r = await api.assign(this.args.task, { role: this.flags.role, dryRun: this.flags['dry-run'] });
    renderAssign(
      r,
      (s) => this.log(s),
      (rows) => this.table(rows),
    );
    return r;
  }
}
