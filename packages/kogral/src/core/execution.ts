import { bullets, checklist } from './templates.js';

export interface ExecutionInput {
  context?: string;
  root_cause?: string;
  resolution?: string;
  action_items?: string[];
  related_resources?: string[];
  started?: string;
  detected?: string;
  resolved?: string;
}

function duration(from?: string, to?: string): string | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const m = Math.round(ms / 60000);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}

/** Template fields of an execution (incident/postmortem) node: its Timeline and sections. */
export function executionFields(i: ExecutionInput): Record<string, string | undefined> {
  const timeline = [
    i.started ? `- **Started**: ${i.started}` : '',
    i.detected ? `- **Detected**: ${i.detected}` : '',
    i.resolved ? `- **Resolved**: ${i.resolved}` : '',
    duration(i.started, i.resolved) ? `- **Duration**: ${duration(i.started, i.resolved)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return {
    context: i.context,
    timeline,
    root_cause: i.root_cause,
    resolution: i.resolution,
    action_items: checklist(i.action_items ?? []),
    related_resources: bullets(i.related_resources ?? []),
  };
}
