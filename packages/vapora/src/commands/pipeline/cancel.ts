import * as Args from '@oclif/core/args';
import { VaporaCommand } from '../../cli/base.js';
import { renderRun } from '../../cli/pipeline.js';

export default class PipelineCancel extends VaporaCommand<typeof PipelineCancel> {
  static override summary = 'Cancel a running pipeline: no new steps start, the completed ones are rolled back';
  static override args = { run: Args.string({ description: 'run id', required: true }) };
  static override examples = ['<%= config.bin %> pipeline cancel r-1a2b3c4d'];

  async run() {
    const v = await (await this.api()).cancelRun(this.args.run);
    renderRun(
      v,
      (s) => this.log(s),
      (rows) => this.table(rows),
    );
    return v;
  }
}
