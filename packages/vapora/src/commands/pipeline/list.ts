import { VaporaCommand } from '../../cli/base.js';

export default class PipelineList extends VaporaCommand<typeof PipelineList> {
  static override summary = 'List pipeline definitions (.vapora/pipelines/*.toml) and recent runs';
  static override examples = ['<%= config.bin %> pipeline list', '<%= config.bin %> pipeline list --json'];

  async run() {
    const r = await (await this.api()).listPipelines();
    this.table(
      r.pipelines.map((p) => ({
        pipeline: p.name,
        steps: p.error ? `BROKEN: ${p.error}` : p.steps.join(' → '),
        about: p.description,
      })),
      undefined,
      'no pipelines (add .vapora/pipelines/<name>.toml; see vapora pipeline run --help)',
    );
    if (r.runs.length) {
      this.log('');
      this.table(
        r.runs.map((x) => ({
          run: x.id,
          pipeline: x.pipeline,
          status: x.status,
          started: new Date(x.createdAt).toISOString().slice(0, 19).replace('T', ' '),
          error: x.error ?? '',
        })),
      );
    }
    return r;
  }
}
