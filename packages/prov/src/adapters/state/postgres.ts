import { unavailableError } from '@stratumiops/shared/errors';
import { PostgresDriver } from '@stratumiops/shared/sql/postgres';
import { SqlStateStore } from './sql.js';

/** PostgreSQL state for teams: several workspaces in one database, the lock a session advisory lock. */
export const PostgresStateStore = {
  async open(url: string, workspace = process.env.PROV_WORKSPACE || 'default'): Promise<SqlStateStore> {
    const db = new PostgresDriver(url, 4);
    try {
      await db.get('SELECT 1');
    } catch (e) {
      await db.close().catch(() => {});
      throw unavailableError(`cannot reach the PostgreSQL state at ${redactUrl(url)}: ${(e as Error).message}`, {
        hint: 'check the state setting (PROV_STATE) and that the server is up',
      });
    }
    const store = new SqlStateStore(`${redactUrl(url)} (workspace ${workspace})`, db, workspace);
    try {
      await store.opened();
    } catch (e) {
      await db.close().catch(() => {});
      throw e;
    }
    return store;
  },
};

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
