import { migrate, type SqlDriver } from '@stratumiops/shared/sql/driver';
import type { Store } from '../../core/store.js';
import { agentsSql } from './agents.js';
import { approvalsSql } from './approvals.js';
import { assignmentSql } from './assignment.js';
import { budgetsSql } from './budgets.js';
import { pipelinesSql } from './pipelines.js';
import { projectsSql } from './projects.js';
import { MIGRATIONS } from './schema.js';
import { tasksSql } from './tasks.js';
import { tokensSql } from './tokens.js';

export { SCHEMA_VERSION } from './schema.js';

/** The Store over one SQL database (SQLite or PostgreSQL driver): one module per aggregate, the same tables. */
export function sqlStore(db: SqlDriver): Store {
  return {
    backend: db.dialect,
    migrate: () => migrate(db, MIGRATIONS),
    close: () => db.close(),
    ...projectsSql(db),
    ...tasksSql(db),
    ...agentsSql(db),
    ...assignmentSql(db),
    ...budgetsSql(db),
    ...approvalsSql(db),
    ...pipelinesSql(db),
    ...tokensSql(db),
    async changeStamp(): Promise<string> {
      const r = await db.get(
        `SELECT (SELECT COUNT(*) FROM tasks) AS tn, (SELECT MAX(updated_at) FROM tasks) AS tu,
           (SELECT COUNT(*) FROM approvals) AS an, (SELECT MAX(COALESCE(decided_at, requested_at)) FROM approvals) AS au,
           (SELECT MAX(updated_at) FROM pipeline_runs) AS ru, (SELECT COUNT(*) FROM pipeline_steps) AS sn,
           (SELECT MAX(COALESCE(finished_at, started_at)) FROM pipeline_steps) AS su,
           (SELECT SUM(spent + reserved) FROM budget_spend) AS bs, (SELECT MAX(updated_at) FROM budgets) AS bu`,
      );
      return Object.values(r ?? {})
        .map((v) => String(v ?? 0))
        .join(':');
    },
  };
}
