import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { VaporaCommand } from '../../cli/base.js';
import { renderRun } from '../../cli/pipeline.js';

export default class PipelineRun extends VaporaCommand<typeof PipelineRun> {
  static override summary = 'Start a pipeline run: steps by role, each passing its output on';
  static override description =
    'Loads .vapora/pipelines/<name>.toml (or [pipelines_dir]). Each step becomes a task, assigned by the scorer and run by the agents; `{{inputs.x}}` and `{{steps.<id>.output}}` (and `.field` of a JSON output) fill later steps. A step with approval = true waits for vapora approve <run>/<step>. A step that fails after its retries, is rejected, or is blocked by a Security step (output {"block": true, "reason": …}) stops the run, and the rollback steps of the completed steps run, latest first. Runs are checkpointed in the store and go on after a restart of vapora serve.';
  static override args = { name: Args.string({ description: 'pipeline name', required: true }) };
  static override flags = {
    project: Flags.string({ description: 'project id or name', char: 'p', helpValue: '<project>' }),
    input: Flags.string({ description: 'an input, name=value (repeatable)', multiple: true, helpValue: '<k=v>' }),
  };
  static override examples = [
    '<%= config.bin %> pipeline run deploy --project infra --input service=api --input version=1.4.2',
  ];

  async run() {
    const inputs: Record<string, string> = {};
    for (const kv of this.flags.input ?? []) {
      const i = kv.indexOf('=');
      if (i <= 0) throw usageError(`--input '${kv}' is not name=value`);
      inputs[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const v = await (await this.api()).startPipeline(this.args.name, {
      ...(this.flags.project ? { project: this.flags.project } : {}),
      inputs,
    });
    renderRun(
      v,
      (s) => this.log(s),
      (rows) => this.table(rows),
    );
    this.log(`follow it: vapora pipeline status ${v.run.id} --follow`);
    return v;
  }
}
