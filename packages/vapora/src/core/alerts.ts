import { createHash } from 'node:crypto';
import * as z from '@stratumiops/shared/zod';
import type { Caller } from './auth.js';
import { type Alert, type Bus, ALERT_SEVERITIES as SEVERITIES } from './bus.js';
import { shortId } from './ids.js';
import { type AlertTrigger, type PipelineLibrary, render, resolveInputs } from './pipeline.js';
import type { PipelineRunner } from './pipeline-runner.js';
import { lookupPath } from './vars.js';

/**
 * Alerts start pipelines. An alert (from an agent's output, a person or CI through `vapora alert raise`, or a
 * budget crossing) goes out on the bus's `vapora.alerts` and is matched against every pipeline's `[[triggers]]`:
 * the source, a minimum severity, and metadata values. Each match starts one run, whose id is derived from the
 * alert and the pipeline, so an alert delivered twice (or seen by two servers) starts its runs once.
 */

const scalar = z.union([z.string().max(2000), z.number(), z.boolean()]);

/** What a person or a script raises (`POST /alerts`, `vapora alert raise`). */
export const alertInput = z.strictObject({
  id: z
    .string()
    .regex(/^[\w.:/-]{1,200}$/, 'alert id: letters, digits and . : / _ - (up to 200)')
    .optional(),
  source: z.string().trim().min(1).max(100),
  severity: z.enum(SEVERITIES).default('error'),
  message: z.string().trim().min(1).max(2000),
  metadata: z.record(z.string().max(100), scalar).default({}),
});

/** What an agent puts in its output to raise one: `{"alert": {"severity": "error", "message": …, "metadata": {…}}}`. */
const agentAlert = z.strictObject({
  severity: z.enum(SEVERITIES).default('error'),
  message: z.string().trim().min(1).max(2000),
  metadata: z.record(z.string().max(100), scalar).default({}),
});

/** The alert in a finished task's output, if it carries one: raised by the agent's role, once per task. */
export function alertFromOutput(task: { task_id: string; agent_role: string }, output: unknown): Alert | undefined {
  let value: unknown = output;
  if (typeof output === 'string') {
    const t = output.trim();
    if (!t.startsWith('{')) return undefined;
    try {
      value = JSON.parse(t);
    } catch {
      return undefined;
    }
  }
  if (!value || typeof value !== 'object' || !('alert' in value)) return undefined;
  const a = agentAlert.safeParse((value as { alert: unknown }).alert);
  if (!a.success) return undefined;
  return { id: `task:${task.task_id}`, source: task.agent_role, ...a.data };
}

/**
 * A trigger's inputs filled from the alert. An input that is just `{{alert.metadata.x}}` and the alert has no x
 * is left out (so a required input is reported missing, not filled with an empty string).
 */
export function triggerInputs(t: AlertTrigger, alert: Alert): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t.inputs)) {
    const whole = typeof v === 'string' ? /^\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}$/.exec(v) : null;
    const value = whole ? lookupPath({ alert }, whole[1] as string) : render(v, { alert });
    if (value !== undefined && value !== null) out[k] = value;
  }
  return out;
}

export function matches(t: AlertTrigger, a: Alert): boolean {
  if (t.source !== a.source) return false;
  if (SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(t.severity)) return false;
  return Object.entries(t.match).every(([k, v]) => k in a.metadata && String(a.metadata[k]) === String(v));
}

/** One run per alert and pipeline: the same alert seen again finds the run it started. */
export function triggeredRunId(alertId: string, pipeline: string): string {
  const h = createHash('sha256').update(`${alertId}\0${pipeline}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `r-${Array.from(h.subarray(0, 8), (b) => alphabet[b % 36]).join('')}`;
}

export interface TriggeredRun {
  pipeline: string;
  run_id: string;
  /** started now, or already started by an earlier delivery of the same alert. */
  status: 'started' | 'duplicate';
}

export interface AlertOutcome {
  alert: Alert;
  runs: TriggeredRun[];
  /** Pipelines whose trigger matched but could not start, and why (their inputs, their project, a scope). */
  skipped: { pipeline: string; reason: string }[];
}

export class AlertTriggers {
  /** Alerts are handled one at a time in a process, so a run is never started twice by a race here. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly runner: PipelineRunner,
    private readonly library: PipelineLibrary,
    private readonly bus: () => Bus | undefined,
    private readonly log?: (msg: string, data: Record<string, unknown>) => void,
  ) {}

  /**
   * A new alert: its pipelines started here (so the caller learns the runs), then published on the bus for
   * other servers and subscribers, where the same alert finds its runs already started.
   */
  async raise(input: Omit<Alert, 'id'> & { id?: string | undefined }, caller?: Caller): Promise<AlertOutcome> {
    const alert: Alert = { ...input, id: input.id ?? `alert:${shortId('a')}` };
    const outcome = await this.handle(alert, caller);
    await this.bus()?.publishAlert(alert);
    return outcome;
  }

  /** Starts the runs of every pipeline with a matching trigger (a scoped caller: only in its projects). */
  handle(alert: Alert, caller?: Caller): Promise<AlertOutcome> {
    const next = this.queue.then(() => this.startRuns(alert, caller));
    this.queue = next.catch(() => {});
    return next;
  }

  private async startRuns(alert: Alert, caller?: Caller): Promise<AlertOutcome> {
    const out: AlertOutcome = { alert, runs: [], skipped: [] };
    for (const entry of this.library.all()) {
      const def = entry.def;
      if (!def) continue;
      const trigger = def.triggers.find((t) => matches(t, alert));
      if (!trigger) continue;
      const runId = triggeredRunId(alert.id, def.name);
      try {
        if (await this.runner.exists(runId)) {
          out.runs.push({ pipeline: def.name, run_id: runId, status: 'duplicate' });
          continue;
        }
        const inputs = resolveInputs(def, triggerInputs(trigger, alert));
        const v = await this.runner.start(
          def.name,
          { project: trigger.project, inputs, runId, createdBy: alert.id },
          caller,
        );
        out.runs.push({ pipeline: def.name, run_id: v.run.id, status: 'started' });
        this.log?.('pipeline started by an alert', { alert: alert.id, pipeline: def.name, run: v.run.id });
      } catch (e) {
        // A second server may have started it between the check and the insert.
        if (await this.runner.exists(runId).catch(() => false)) {
          out.runs.push({ pipeline: def.name, run_id: runId, status: 'duplicate' });
          continue;
        }
        const reason = (e as Error).message;
        out.skipped.push({ pipeline: def.name, reason });
        this.log?.('an alert matched a pipeline that could not start', { alert: alert.id, pipeline: def.name, reason });
      }
    }
    return out;
  }
}
