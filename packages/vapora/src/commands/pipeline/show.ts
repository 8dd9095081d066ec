import * as Args from '@oclif/core/args';
import { VaporaCommand } from '../../cli/base.js';

export default class PipelineShow extends VaporaCommand<typeof PipelineShow> {
  static override summary =
    'Show a pipeline: inputs, the alerts that start it, steps by role, dependencies, gates, retries and rollbacks';
  static override args = { name: Args.string({ description: 'pipeline name', required: true }) };
  static override examples = ['<%= config.bin %> pipeline show deploy'];

  async run() {
    const p = await (await this.api()).showPipeline(this.args.name);
    this.log(`${p.name}${p.description ? `: ${p.description}` : ''}`);
    for (const [k, i] of Object.entries(p.inputs))
      this.log(
        `  input ${k}${i.required ? ' (required)' : i.default !== undefined ? ` = ${i.default}` : ''}${i.description ? `  ${i.description}` : ''}`,
      );
    for (const t of p.triggers ?? []) {
      const when = Object.entries(t.match)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      this.log(
        `  started by alerts from ${t.source}, ${t.severity} or worse${when ? `, ${when}` : ''} (project ${t.project})`,
      );
    }
    this.table(
      p.steps.map((s) => ({
        step: s.id,
        role: s.role,
        after: s.depends_on.join(', ') || '-',
        gate: s.approval ? 'approval' : '-',
        retries: s.retries,
        rollback: s.rollback ? `${s.rollback.role}: ${s.rollback.title ?? s.rollback.type ?? s.id}` : '-',
      })),
    );
    return p;
  }
}
