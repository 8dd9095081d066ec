import * as Args from '@oclif/core/args';
import { VaporaCommand } from '../../cli/base.js';

export default class TaskShow extends VaporaCommand<typeof TaskShow> {
  static override summary = 'Show a task: status, assignee, payload, result, executions and costs';
  static override args = { id: Args.string({ description: 'task id', required: true }) };
  static override examples = ['<%= config.bin %> task show t-4k9x2m1p'];

  async run() {
    const service = await this.api();
    const d = await service.taskDetail(this.args.id);
    const t = d.task;
    this.log(`${t.id}  ${t.title}`);
    this.log(`  status ${t.status}, priority ${t.priority}, type ${t.type}${t.role ? `, role ${t.role}` : ''}`);
    this.log(`  agent ${t.agentId ?? '-'}${t.attempt ? ` (assignment ${t.attempt})` : ''}`);
    if (Object.keys(t.payload).length) this.log(`  payload ${JSON.stringify(t.payload)}`);
    if (t.result !== null) this.log(`  result ${JSON.stringify(t.result)}`);
    if (t.error) this.log(`  error ${t.error}`);
    this.log(
      `  executions ${d.executions.length}; LLM calls ${d.costs.calls}, ${d.costs.tokens} tokens, ${d.costs.cost_cents.toFixed(4)} ¢`,
    );
    return d;
  }
}
