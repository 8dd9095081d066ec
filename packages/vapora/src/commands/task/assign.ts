import { Args, Flags } from '@oclif/core';
import { VaporaCommand } from '../../cli/base.js';
import type { AssignOutcome } from '../../core/service.js';
import { roleFlag } from '../../flags.js';

export function renderAssign(
  r: AssignOutcome,
  log: (s: string) => void,
  table: (rows: Record<string, unknown>[]) => void,
) {
  const c = r.chosen;
  if (c) {
    const verb = r.dryRun ? 'would go to' : r.approval ? 'will go to' : 'assigned to';
    log(`task ${r.task.id} ${verb} ${c.agentId} (score ${c.score.toFixed(3)})`);
  }
  table(
    r.candidates.map((x) => ({
      agent: x.agentId,
      score: x.eligible ? x.score.toFixed(3) : '-',
      load: x.load.toFixed(2),
      expertise: `${x.expertise.toFixed(3)} (${x.expertiseFrom})`,
      confidence: `${x.confidence.toFixed(3)} (n=${x.samples})`,
      why: x.eligible ? x.explain : `excluded: ${x.reason}`,
    })),
  );
  if (r.approval)
    log(
      `waits for approval ${r.approval.id} (${r.approval.role} work): vapora approve ${r.task.id} / vapora reject ${r.task.id}`,
    );
  else if (!r.dryRun) log(r.dispatched ? 'dispatched to the work queue' : 'queued: vapora serve dispatches it');
}

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
