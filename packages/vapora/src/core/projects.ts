import { deniedError, notFoundError } from '@stratumiops/shared/errors';
import { type Caller, inScope } from './auth.js';
import { shortId } from './ids.js';
import { type Project, projectInput, projectPatch } from './model.js';
import { parse } from './parse.js';
import type { ProjectStore } from './store.js';

/** Projects group tasks; a project-scoped token sees only its own and cannot create any. */
export class Projects {
  constructor(
    private readonly store: ProjectStore,
    private readonly now: () => number,
  ) {}

  async createProject(input: unknown, caller?: Caller): Promise<Project> {
    const p = parse(projectInput, input, 'project');
    if (caller && caller.projects !== null) {
      throw deniedError('a token scoped to projects cannot create projects', { hint: 'ask an admin' });
    }
    const now = this.now();
    const project: Project = {
      id: shortId('p', 6),
      name: p.name,
      description: p.description,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.createProject(project);
    return project;
  }

  async listProjects(caller?: Caller): Promise<Project[]> {
    return (await this.store.listProjects()).filter((p) => inScope(caller, p.id));
  }

  async getProject(idOrName: string, caller?: Caller): Promise<Project> {
    const p = await this.store.getProject(idOrName);
    if (!p || !inScope(caller, p.id))
      throw notFoundError(`no project '${idOrName}'`, { hint: "see 'vapora project list'" });
    return p;
  }

  async updateProject(idOrName: string, input: unknown, caller?: Caller): Promise<Project> {
    const patch = parse(projectPatch, input, 'project');
    const p = await this.getProject(idOrName, caller);
    const out = await this.store.updateProject(p.id, patch, this.now());
    if (!out) throw notFoundError(`no project '${idOrName}'`);
    return out;
  }

  async deleteProject(idOrName: string, caller?: Caller): Promise<Project> {
    const p = await this.getProject(idOrName, caller);
    await this.store.deleteProject(p.id);
    return p;
  }
}
