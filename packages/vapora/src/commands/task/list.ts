import * as Flags from '@oclif/core/flags';
import { ago, VaporaCommand } from '../../cli/base.js';
import { roleFlag } from '../../cli/flags.js';
import { TASK_STATUSES } from '../../core/model.js';

export default class TaskList extends VaporaCommand<typeof TaskList> {
  static override summary = 'List tasks, by kanban column';
  static override flags = {
    status: Flags.string({ description: 'only this column', options: [...TASK_STATUSES], aliases: ['column'] }),
    project: Flags.string({ description: 'project id or name', char: 'p', helpValue: '<project>' }),
    role: roleFlag('only tasks for this role'),
    agent: Flags.string({ description: 'only tasks assigned to this agent', helpValue: '<id>' }),
  };
  static override examples = [
    '<%= config.bin %> task list --status todo',
    '<%= config.bin %> task list --project infra --json',
  ];

  async run() {
    const service = await this.api();
    const f = this.flags;
    const tasks = await service.listTasks({ status: f.status, project: f.project, role: f.role, agent: f.agent });
    this.table(
      tasks.map((t) => ({
        id: t.id,
        status: t.status,
        priority: t.priority,
        type: t.type,
        role: t.role,
        agent: t.agentId,
        title: t.title.length > 50 ? `${t.title.slice(0, 49)}…` : t.title,
        updated: ago(t.updatedAt),
      })),
      undefined,
      'no tasks',
    );
    return { tasks };
  }
}
