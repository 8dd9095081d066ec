import { conflictError } from '@stratumiops/shared/errors';
import type { Row, SqlDriver } from '@stratumiops/shared/sql/driver';
import type { Project } from '../../core/model.js';
import type { ProjectStore } from '../../core/store.js';
import { num, str } from './rows.js';

// Projects; deleting one deletes its tasks.

function toProject(r: Row): Project {
  return {
    id: str(r.id),
    name: str(r.name),
    description: str(r.description),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function projectsSql(db: SqlDriver): ProjectStore {
  const store: ProjectStore = {
    async createProject(p: Project): Promise<void> {
      try {
        await db.run('INSERT INTO projects (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
          p.id,
          p.name,
          p.description,
          p.createdAt,
          p.updatedAt,
        ]);
      } catch (e) {
        if (db.isUniqueViolation(e)) throw conflictError(`a project named '${p.name}' already exists`);
        throw e;
      }
    },

    async getProject(idOrName: string): Promise<Project | undefined> {
      const r = await db.get('SELECT * FROM projects WHERE id = ? OR name = ? ORDER BY (id = ?) DESC LIMIT 1', [
        idOrName,
        idOrName,
        idOrName,
      ]);
      return r ? toProject(r) : undefined;
    },

    async listProjects(): Promise<Project[]> {
      return (await db.all('SELECT * FROM projects ORDER BY name')).map(toProject);
    },

    async updateProject(
      id: string,
      patch: Partial<Pick<Project, 'name' | 'description'>>,
      now: number,
    ): Promise<Project | undefined> {
      const sets: string[] = ['updated_at = ?'];
      const params: unknown[] = [now];
      if (patch.name !== undefined) sets.push('name = ?') && params.push(patch.name);
      if (patch.description !== undefined) sets.push('description = ?') && params.push(patch.description);
      try {
        const n = await db.run(`UPDATE projects SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
        return n ? store.getProject(id) : undefined;
      } catch (e) {
        if (db.isUniqueViolation(e)) throw conflictError(`a project named '${patch.name}' already exists`);
        throw e;
      }
    },

    async deleteProject(id: string): Promise<boolean> {
      return db.tx(async (q) => {
        await q.run('DELETE FROM tasks WHERE project_id = ?', [id]);
        return (await q.run('DELETE FROM projects WHERE id = ?', [id])) > 0;
      });
    },
  };
  return store;
}
