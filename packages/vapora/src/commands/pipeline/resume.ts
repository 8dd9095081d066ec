import * as Args from '@oclif/core/args';
import { VaporaCommand } from '../../cli/base.js';
import { renderRun } from '../../cli/pipeline.js';

export default class PipelineResume extends VaporaCommand<typeof PipelineResume> {
  static override summary = 'Resume a run: retry a failed rollback, or move an interrupted run on';
  static override args = { run: Args.string({ description: 'run id', required: true }) };
  static override examples = ['<%= config.bin %> pipeline resume r-1a2b3c4d'];

  async run() {
    const v = await (await this.api()).resumeRun(this.args.run);
    renderRun(
      v,
      (s) => this.log(s),
      (rows) => this.table(rows),
    );
    return v;
  }
}
