import type { RunView } from '../core/pipeline-runner.js';
import { centsOf } from './base.js';

/** A pipeline run and its steps, as status, run, resume and cancel print it. */
export function renderRun(v: RunView, log: (s: string) => void, table: (rows: Record<string, unknown>[]) => void) {
  const r = v.run;
  log(`run ${r.id} of ${r.pipeline}: ${r.status}${r.error ? ` (${r.error})` : ''}, ${centsOf(v.cost_cents)} ¢`);
  const t0 = r.createdAt;
  const at = (t: number | null) => (t === null ? '-' : `+${((t - t0) / 1000).toFixed(1)}s`);
  table(
    v.steps.map((s) => ({
      step: s.phase === 'rollback' ? `↩ ${s.step}` : s.step,
      role: s.role,
      status: s.status,
      task: s.task_id ?? '',
      agent: s.agent ?? '',
      tries: s.attempts,
      started: at(s.started_at),
      finished: at(s.finished_at),
      '¢': centsOf(s.cost_cents),
      note:
        s.error ??
        (typeof s.output === 'string' ? s.output.slice(0, 40) : s.output ? JSON.stringify(s.output).slice(0, 40) : ''),
    })),
  );
}
