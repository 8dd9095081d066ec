import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { AddCommand, commonAddFlags, titleArg } from '../../cli/add.js';
import { splitList } from '../../cli/base.js';
import { executionFields } from '../../core/execution.js';

export default class AddExecution extends AddCommand<typeof AddExecution> {
  static override summary = 'Add an execution record: incident or postmortem';
  static override args = { title: titleArg() };
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
    // Bad flags are refused before anything is asked.
    for (const k of ['started', 'detected', 'resolved'] as const) {
      const v = f[k];
      if (v !== undefined && Number.isNaN(Date.parse(v)))
        throw usageError(`--${k} '${v}' is not a date/time`, { hint: 'use ISO 8601, e.g. 2026-01-22T10:15:00Z' });
    }
    const v = await this.fill('execution', [
      { key: 'title', value: this.args.title, flag: 'a title', label: 'Title' },
      { key: 'root_cause', value: f['root-cause'], flag: '--root-cause', label: 'Root cause (why it happened)' },
      { key: 'resolution', value: f.resolution, flag: '--resolution', label: 'Resolution (how it was resolved)' },
    ]);
    return this.create(
      {
        type: 'execution',
        title: v.title,
        fields: executionFields({
          context: f.context,
          root_cause: v.root_cause,
          resolution: v.resolution,
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
