import type { AssignOutcome } from '../core/service.js';

/** An assignment: the chosen agent, every candidate's score, and what happens next (task assign, swarm assign). */
export function renderAssign(
  r: AssignOutcome,
  log: (s: string) => void,
  table: (rows: Record<string, unknown>[]) => void,
) {
  const c = r.chosen;
  if (c) {
    const verb = r.dryRun ? 'would go to' : r.approval ? 'will go to' : 'assigned to';
    log(`task ${r.task.id} ${verb} ${c.agentId} (score ${c.score.toFixed(3)})`);
  }
  table(
    r.candidates.map((x) => ({
      agent: x.agentId,
      score: x.eligible ? x.score.toFixed(3) : '-',
      load: x.load.toFixed(2),
      expertise: `${x.expertise.toFixed(3)} (${x.expertiseFrom})`,
      confidence: `${x.confidence.toFixed(3)} (n=${x.samples})`,
      why: x.eligible ? x.explain : `excluded: ${x.reason}`,
    })),
  );
  if (r.approval)
    log(
      `waits for approval ${r.approval.id} (${r.approval.role} work): vapora approve ${r.task.id} / vapora reject ${r.task.id}`,
    );
  else if (!r.dryRun) log(r.dispatched ? 'dispatched to the work queue' : 'queued: vapora serve dispatches it');
}
