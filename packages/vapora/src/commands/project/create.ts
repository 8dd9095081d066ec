import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { VaporaCommand } from '../../cli/base.js';

export default class ProjectCreate extends VaporaCommand<typeof ProjectCreate> {
  static override summary = 'Create a project';
  static override args = { name: Args.string({ description: 'project name', required: true }) };
  static override flags = { description: Flags.string({ description: 'what the project is about' }) };
  static override examples = [
    '<%= config.bin %> project create web-shop',
    '<%= config.bin %> project create infra --description "Platform work"',
  ];

  async run() {
    const service = await this.api();
    const p = await service.createProject({ name: this.args.name, description: this.flags.description ?? '' });
    this.log(`project ${p.name} created (${p.id})`);
    return p;
  }
}
