import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { VaporaCommand } from '../../cli/base.js';

export default class AlertRaise extends VaporaCommand<typeof AlertRaise> {
  static override summary = 'Raise an alert: the pipelines whose triggers match it start';
  static override description =
    'Publishes the alert on vapora.alerts and starts every pipeline with a matching [[triggers]] entry (same source, at least its severity, equal metadata values), with inputs filled from {{alert.*}}. An alert starts each pipeline once: raising the same --id again reports the run it started (duplicate). Agents raise alerts too, by putting {"alert": {"severity", "message", "metadata"}} in their output; budgets raise theirs when a limit is crossed.';
  static override flags = {
    source: Flags.string({
      description: 'who raises it (a trigger matches on it), e.g. monitor, ci, pagerduty',
      required: true,
    }),
    severity: Flags.string({
      description: 'severity',
      options: ['info', 'warning', 'error', 'critical'],
      default: 'error',
    }),
    message: Flags.string({ description: 'what happened', char: 'm', required: true }),
    meta: Flags.string({ description: 'metadata, key=value (repeatable)', multiple: true, helpValue: '<k=v>' }),
    id: Flags.string({ description: 'the alert id (default: a new one); the same id never starts a pipeline twice' }),
  };
  static override examples = [
    '<%= config.bin %> alert raise --source monitor --severity critical -m "postgresql down on db-1" --meta service=postgresql --meta host=db-1',
    '<%= config.bin %> alert raise --source ci --id build-4711 -m "nightly restore test failed" --json',
  ];

  async run() {
    const metadata: Record<string, string> = {};
    for (const kv of this.flags.meta ?? []) {
      const i = kv.indexOf('=');
      if (i <= 0) throw usageError(`--meta '${kv}' is not key=value`);
      metadata[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const r = await (await this.api()).raiseAlert({
      source: this.flags.source,
      severity: this.flags.severity,
      message: this.flags.message,
      metadata,
      ...(this.flags.id ? { id: this.flags.id } : {}),
    });
    this.log(`alert ${r.alert.id} (${r.alert.severity}, from ${r.alert.source}): ${r.alert.message}`);
    if (!r.runs.length && !r.skipped.length) this.log('no pipeline has a trigger for it');
    for (const run of r.runs)
      this.log(
        `  ${run.status === 'started' ? 'started' : 'already started'}: ${run.pipeline} run ${run.run_id} (vapora pipeline status ${run.run_id})`,
      );
    for (const s of r.skipped) this.log(`  not started: ${s.pipeline}: ${s.reason}`);
    return r;
  }
}
