import type { Row, SqlDriver, SqlQueryer } from '@stratumiops/shared/sql/driver';
import type { PipelineRun, RunStatus, StepState } from '../../core/model.js';
import type { PipelineStore } from '../../core/store.js';
import { num, numOrNull, parseJson, str, strOrNull } from './rows.js';

// Pipeline runs and their steps (checkpointed as they move).

function toRun(r: Row): PipelineRun {
  return {
    id: str(r.id),
    pipeline: str(r.pipeline),
    definition: parseJson(r.definition),
    projectId: strOrNull(r.project_id),
    inputs: (parseJson(r.inputs) ?? {}) as Record<string, unknown>,
    status: str(r.status) as RunStatus,
    error: strOrNull(r.error),
    createdBy: strOrNull(r.created_by),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

function toStep(r: Row): StepState {
  return {
    runId: str(r.run_id),
    stepId: str(r.step_id),
    phase: str(r.phase) as StepState['phase'],
    status: str(r.status) as StepState['status'],
    taskId: strOrNull(r.task_id),
    output: parseJson(r.output),
    attempts: num(r.attempts),
    error: strOrNull(r.error),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

async function putStepIn(q: SqlQueryer, s: StepState): Promise<void> {
  await q.run(
    `INSERT INTO pipeline_steps (run_id, step_id, phase, status, task_id, output, attempts, error, started_at, finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, step_id, phase) DO UPDATE SET status = excluded.status, task_id = excluded.task_id,
       output = excluded.output, attempts = excluded.attempts, error = excluded.error,
       started_at = excluded.started_at, finished_at = excluded.finished_at`,
    [
      s.runId,
      s.stepId,
      s.phase,
      s.status,
      s.taskId,
      s.output === undefined || s.output === null ? null : JSON.stringify(s.output),
      s.attempts,
      s.error,
      s.startedAt,
      s.finishedAt,
    ],
  );
}

export function pipelinesSql(db: SqlDriver): PipelineStore {
  const store: PipelineStore = {
    async createRun(run: PipelineRun, steps: StepState[]): Promise<void> {
      await db.tx(async (q) => {
        await q.run(
          `INSERT INTO pipeline_runs (id, pipeline, definition, project_id, inputs, status, error, created_by, created_at,
           updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            run.id,
            run.pipeline,
            JSON.stringify(run.definition),
            run.projectId,
            JSON.stringify(run.inputs),
            run.status,
            run.error,
            run.createdBy,
            run.createdAt,
            run.updatedAt,
            run.finishedAt,
          ],
        );
        for (const s of steps) await putStepIn(q, s);
      });
    },

    async getRun(id: string): Promise<PipelineRun | undefined> {
      const r = await db.get('SELECT * FROM pipeline_runs WHERE id = ?', [id]);
      return r ? toRun(r) : undefined;
    },

    async listRuns(f: { status?: RunStatus[]; limit?: number } = {}): Promise<PipelineRun[]> {
      const where = f.status?.length ? ` WHERE status IN (${f.status.map(() => '?').join(', ')})` : '';
      const rows = await db.all(`SELECT * FROM pipeline_runs${where} ORDER BY created_at DESC, id LIMIT ?`, [
        ...(f.status ?? []),
        f.limit ?? 1000,
      ]);
      return rows.map(toRun);
    },

    async updateRun(
      id: string,
      patch: Partial<Pick<PipelineRun, 'status' | 'error' | 'updatedAt' | 'finishedAt'>>,
      expect?: RunStatus[],
    ): Promise<boolean> {
      const cols: Record<string, string> = {
        status: 'status',
        error: 'error',
        updatedAt: 'updated_at',
        finishedAt: 'finished_at',
      };
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || !cols[k]) continue;
        sets.push(`${cols[k]} = ?`);
        params.push(v);
      }
      if (!sets.length) return true;
      let where = 'id = ?';
      params.push(id);
      if (expect?.length) {
        where += ` AND status IN (${expect.map(() => '?').join(', ')})`;
        params.push(...expect);
      }
      return (await db.run(`UPDATE pipeline_runs SET ${sets.join(', ')} WHERE ${where}`, params)) > 0;
    },

    async listSteps(runId: string): Promise<StepState[]> {
      return (await db.all('SELECT * FROM pipeline_steps WHERE run_id = ? ORDER BY phase, step_id', [runId])).map(
        toStep,
      );
    },

    async putStep(s: StepState): Promise<void> {
      await putStepIn(db, s);
    },
  };
  return store;
}
