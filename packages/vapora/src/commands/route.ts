import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { centsOf, pct, VaporaCommand } from '../cli/base.js';
import { roleFlag } from '../cli/flags.js';
import type { Attempt } from '../core/router.js';
import { describeAttempts, targetKey } from '../core/router.js';
import type { DecisionView } from '../core/views.js';

export function renderDecision(d: DecisionView, log: (s: string) => void): void {
  const b = d.budget;
  const used = (p: DecisionView['budget']['month']) => centsOf(p.spent_cents + p.reserved_cents);
  log(`${d.task_type} as ${d.role}: ${d.route.source} → ${targetKey(d.route.primary)}`);
  log(
    `  budget ${b.state} (${b.ratio === null ? '∞' : pct(b.ratio)}): month ${b.month.key} ${used(b.month)}/${centsOf(b.month.limit_cents)} ¢, week ${b.week.key} ${used(b.week)}/${centsOf(b.week.limit_cents)} ¢`,
  );
  if (d.blocked) log(`  BLOCKED: ${d.reason}`);
  else {
    log(
      `  ${d.reason}: ${targetKey(d.candidates[0]!.target)} (reserves up to ${centsOf(d.candidates[0]!.estimate_cents)}¢)`,
    );
    if (d.candidates.length > 1)
      log(
        `  then: ${d.candidates
          .slice(1)
          .map((c) => `${targetKey(c.target)} (${centsOf(c.estimate_cents)}¢)`)
          .join(' → ')}`,
      );
  }
  for (const s of d.skipped) log(`  skipped ${targetKey(s.target)}: ${s.reason}`);
}

/** The attempts before the one that answered (errors, targets left out), for stderr: empty when the first served. */
export function failedAttempts(attempts: Attempt[]): string {
  const failed = attempts.filter((a) => a.outcome !== 'ok');
  return failed.length > 0 ? `, tried first: ${describeAttempts(failed)}` : '';
}

export default class Route extends VaporaCommand<typeof Route> {
  static override summary = 'Show which provider and model a request goes to, and why, with the budget state';
  static override description =
    "Applies the routing rules and the role's budget state (normal, near threshold, exceeded). A dry run unless --prompt is given: then the prompt is sent through the router (retries, fallbacks, budget reservation) and its cost recorded.";
  static override args = { 'task-type': Args.string({ description: 'task type (or --type)' }) };
  static override flags = {
    type: Flags.string({ description: 'task type, matched against the routing rules' }),
    role: roleFlag('role making the request', true),
    'dry-run': Flags.boolean({ description: 'only decide (the default without --prompt)' }),
    prompt: Flags.string({ description: 'send this prompt and print the reply' }),
    'max-tokens': Flags.integer({ description: 'output tokens to allow (and reserve)', min: 1 }),
  };
  static override examples = [
    '<%= config.bin %> route --type security_scan --role security --dry-run',
    '<%= config.bin %> route summarize --role documenter --prompt "Summarize: ..."',
  ];

  async run() {
    const f = this.flags;
    const taskType = f.type ?? this.args['task-type'];
    if (!taskType) throw usageError('a task type is needed', { hint: 'pass --type <type>' });
    const api = await this.api();
    if (f.prompt === undefined || f['dry-run']) {
      const d = await api.route(taskType, f.role as string, { maxTokens: f['max-tokens'], prompt: f.prompt });
      renderDecision(d, (s) => this.log(s));
      return d;
    }
    const r = await api.callLlm(taskType, f.role as string, { prompt: f.prompt, maxTokens: f['max-tokens'] });
    this.log(r.text);
    process.stderr.write(
      `(${r.provider} ${r.model}, ${r.usage.inputTokens}+${r.usage.outputTokens} tokens, ${centsOf(r.cost_cents)}¢${r.fallbacks.length ? `, fallbacks: ${r.fallbacks.map((x) => `${x.to} (${x.reason})`).join(', ')}` : ''}${failedAttempts(r.attempts)})\n`,
    );
    return r;
  }
}
