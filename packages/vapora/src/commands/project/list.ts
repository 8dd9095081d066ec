import { VaporaCommand } from '../../cli/base.js';

export default class ProjectList extends VaporaCommand<typeof ProjectList> {
  static override summary = 'List projects';
  static override examples = ['<%= config.bin %> project list'];

  async run() {
    const service = await this.api();
    const projects = await service.listProjects();
    this.table(
      projects.map((p) => ({ id: p.id, name: p.name, description: p.description })),
      undefined,
      'no projects',
    );
    return { projects };
  }
}
