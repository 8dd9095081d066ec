import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { readStdinSync } from '@stratumiops/shared/output';
import { readPayload, VaporaCommand } from '../../cli/base.js';
import { roleFlag } from '../../cli/flags.js';
import { PRIORITIES } from '../../core/model.js';

export default class TaskCreate extends VaporaCommand<typeof TaskCreate> {
  static override summary = 'Create a task';
  static override args = { title: Args.string({ description: 'title (or --title)' }) };
  static override flags = {
    title: Flags.string({ description: 'title' }),
    project: Flags.string({ description: 'project id or name', char: 'p', helpValue: '<project>' }),
    type: Flags.string({
      description: 'task type, used for routing and expertise, e.g. manifest_validation',
      required: true,
    }),
    role: roleFlag('role that should do it (default: any role)'),
    priority: Flags.string({ description: 'priority', options: [...PRIORITIES], default: 'normal' }),
    description: Flags.string({ description: 'details, or - for stdin' }),
    payload: Flags.string({
      description: 'input as a JSON object: inline, @file or - for stdin',
      helpValue: '<json|@file|->',
    }),
  };
  static override examples = [
    '<%= config.bin %> task create --project infra --type manifest_validation --title "Validate K8s manifests" --payload @task.json',
    '<%= config.bin %> task create "Review PR 42" --type code-review --role code-reviewer --priority high',
  ];

  async run() {
    const f = this.flags;
    const title = f.title ?? this.args.title;
    if (!title) throw usageError('a title is needed', { hint: 'pass it as an argument or with --title' });
    if (f.description === '-' && f.payload === '-')
      throw usageError('only one of --description and --payload can read stdin');
    const description = f.description === '-' ? readStdinSync() : (f.description ?? '');
    const payload = readPayload(f.payload);
    const service = await this.api();
    const t = await service.createTask({
      title,
      type: f.type,
      description,
      payload,
      priority: f.priority,
      ...(f.project ? { project: f.project } : {}),
      ...(f.role ? { role: f.role } : {}),
    });
    this.log(`task ${t.id} created: ${t.title} [${t.type}${t.role ? `, ${t.role}` : ''}, ${t.priority}]`);
    return t;
  }
}
