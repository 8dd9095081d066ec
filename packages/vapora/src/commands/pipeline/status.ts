import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { VaporaCommand } from '../../cli/base.js';
import { renderRun } from '../../cli/pipeline.js';

const FINISHED = new Set(['succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled']);

export default class PipelineStatus extends VaporaCommand<typeof PipelineStatus> {
  static override summary = "Show a run's timeline: each step's state, agent, timing and cost";
  static override args = { run: Args.string({ description: 'run id', required: true }) };
  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'print again as it changes, until it ends' }),
  };
  static override examples = [
    '<%= config.bin %> pipeline status r-1a2b3c4d',
    '<%= config.bin %> pipeline status r-1a2b3c4d --follow',
  ];

  async run() {
    const api = await this.api();
    let v = await api.pipelineStatus(this.args.run);
    if (!this.flags.follow || this.jsonEnabled()) {
      if (this.flags.follow)
        while (!FINISHED.has(v.run.status)) v = await this.wait(() => api.pipelineStatus(this.args.run));
      renderRun(
        v,
        (s) => this.log(s),
        (rows) => this.table(rows),
      );
      return v;
    }
    let last = '';
    for (;;) {
      const key = JSON.stringify(v.steps.map((s) => [s.status, s.task_status, s.attempts])) + v.run.status;
      if (key !== last) {
        renderRun(
          v,
          (s) => this.log(s),
          (rows) => this.table(rows),
        );
        last = key;
      }
      if (FINISHED.has(v.run.status)) return v;
      v = await this.wait(() => api.pipelineStatus(this.args.run));
    }
  }

  private async wait<T>(fn: () => Promise<T>): Promise<T> {
    await new Promise((r) => setTimeout(r, 1000));
    return fn();
  }
}
