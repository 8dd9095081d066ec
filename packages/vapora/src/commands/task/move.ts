import * as Args from '@oclif/core/args';
import { VaporaCommand } from '../../cli/base.js';
import { TASK_STATUSES } from '../../core/model.js';

export default class TaskMove extends VaporaCommand<typeof TaskMove> {
  static override summary = 'Move a task to another kanban column';
  static override args = {
    id: Args.string({ description: 'task id', required: true }),
    column: Args.string({ description: 'target column', required: true, options: [...TASK_STATUSES] }),
  };
  static override examples = ['<%= config.bin %> task move t-4k9x2m1p done'];

  async run() {
    const service = await this.api();
    const t = await service.updateTask(this.args.id, { status: this.args.column });
    this.log(`task ${t.id} is now ${t.status}`);
    return t;
  }
}
