import { Args, Flags } from '@oclif/core';
import { usageError } from '@stratumiops/shared/errors';
import { AddCommand, commonAddFlags } from '../../cli/add.js';
import { splitList } from '../../cli/base.js';
import { executionFields } from '../../core/execution.js';

export default class AddExecution extends AddCommand<typeof AddExecution> {
  static override summary = 'Add an execution record: incident or postmortem';
  static override args = { title: Args.string({ description: 'title', required: true }) };
  static override flags = {
    context: Flags.string({ description: 'what happened' }),
    'root-cause': Flags.string({ description: 'root cause' }),
    resolution: Flags.string({ description: 'how it was resolved' }),
    'action-item': Flags.string({
      description: 'follow-up action (repeatable; --action-items takes a comma-separated list)',
      multiple: true,
      multipleNonGreedy: true,
      aliases: ['action-items'],
      helpValue: '<text>',
    }),
    started: Flags.string({ description: 'when it started (ISO 8601)', helpValue: '<time>' }),
    detected: Flags.string({ description: 'when it was detected (ISO 8601)', helpValue: '<time>' }),
    resolved: Flags.string({ description: 'when it was resolved (ISO 8601)', helpValue: '<time>' }),
    related: Flags.string({
      description: 'related resource: URL, dashboard, ticket (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<text>',
    }),
    ...commonAddFlags,
  };
  static override examples = [
    '<%= config.bin %> add execution "2026-01-22 PostgreSQL connection pool exhaustion" --root-cause "Connection leak" --resolution "Added PgBouncer" --action-items "Monitor the pool,Alert at 80%" --tags database,incident',
  ];

  async run() {
    const f = this.flags;
    this.requireFields('execution', [
      ...(f['root-cause'] === undefined ? [{ flag: '--root-cause', what: 'why it happened' }] : []),
      ...(f.resolution === undefined ? [{ flag: '--resolution', what: 'how it was resolved' }] : []),
    ]);
    for (const k of ['started', 'detected', 'resolved'] as const) {
      const v = f[k];
      if (v !== undefined && Number.isNaN(Date.parse(v)))
        throw usageError(`--${k} '${v}' is not a date/time`, { hint: 'use ISO 8601, e.g. 2026-01-22T10:15:00Z' });
    }
    return this.create(
      {
        type: 'execution',
        title: this.args.title,
        fields: executionFields({
          context: f.context,
          root_cause: f['root-cause'],
          resolution: f.resolution,
          action_items: splitList(f['action-item']),
          related_resources: f.related ?? [],
          started: f.started,
          detected: f.detected,
          resolved: f.resolved,
        }),
      },
      this.flags,
    );
  }
}
