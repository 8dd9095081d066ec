import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { conflictError, usageError } from '@stratumiops/shared/errors';
import { acceptNewHostKeysFlag, ProvCommand, targetFlag } from '../cli/base.js';
import * as flow from '../cli/flow.js';
import { assertPlanCurrent, makePlan, summaryText } from '../core/engine.js';
import type { PlanDoc } from '../core/types.js';
import { configFile } from '../core/workspace.js';
import { Runtime } from '../runtime.js';

export default class Apply extends ProvCommand<typeof Apply> {
  static override summary = 'Create, change or delete resources to match a config or a saved plan';
  static override description =
    'Runs the tasks in dependency order, up to --parallelism at once, retrying transient failures with backoff and checkpointing in state after each one. If a task fails, completed tasks are rolled back in reverse order unless --no-rollback. A crashed run is continued with prov resume; apply refuses to start over one without --resume or --abandon.';
  static override args = {
    source: Args.string({ description: 'Nickel config (default: prov.ncl), or a plan saved with plan -o' }),
  };
  static override flags = {
    'auto-approve': Flags.boolean({ description: 'apply without asking', char: 'y' }),
    'json-stream': Flags.boolean({
      description:
        'one JSON object per line on stdout: the plan, each task start/end/retry/rollback, then the result (needs --auto-approve unless a saved plan)',
      exclusive: ['json'],
    }),
    parallelism: Flags.integer({ description: 'tasks run at the same time (default: apply.parallelism, 10)', min: 1 }),
    'no-rollback': Flags.boolean({ description: 'on failure, keep what was completed' }),
    target: targetFlag,
    refresh: Flags.boolean({ description: 'refresh real state before planning', default: true, allowNo: true }),
    resume: Flags.boolean({ description: 'first continue an unfinished run, then apply', exclusive: ['abandon'] }),
    abandon: Flags.boolean({ description: 'mark an unfinished run abandoned and apply anyway' }),
    'accept-new-host-keys': acceptNewHostKeysFlag,
    verbose: Flags.boolean({
      char: 'v',
      description: 'print each task and the commands’ output (host-prefixed) on stderr',
    }),
  };
  static override aliases = ['up'];
  static override examples = [
    '<%= config.bin %> apply',
    '<%= config.bin %> apply plan.json --auto-approve',
    '<%= config.bin %> apply --parallelism 20 --no-rollback',
  ];

  async run() {
    const io = this.flags['json-stream']
      ? { json: true, log: () => {}, stream: flow.jsonLines() }
      : { json: this.jsonEnabled(), log: (s: string) => this.log(s) };
    const source = this.args.source;
    let saved: PlanDoc | undefined;
    if (source?.endsWith('.json')) {
      saved = JSON.parse(readFileSync(source, 'utf8')) as PlanDoc;
      if (saved.format !== 'prov-plan/1') throw usageError(`${source} is not a prov plan`);
      if (this.flags.target)
        throw usageError('--target cannot change a saved plan', { hint: 'make a new plan with --target' });
    }
    const cfgPath = saved ? saved.config?.path : configFile(source);
    const loaded = cfgPath ? await this.loadInfra(cfgPath) : undefined;
    if (saved && loaded && saved.config && loaded.sha256 !== saved.config.sha256) {
      throw conflictError(`the config ${saved.config.path} changed since the plan was made`, {
        hint: 'run prov plan again',
      });
    }
    const store = await this.openStore();
    const runtime = new Runtime(this.runtimeSettings(), loaded?.infra);
    return flow.runOperation(
      store,
      runtime,
      {
        lockName: 'apply',
        report: 'apply',
        unfinished: { abandon: this.flags.abandon, resume: this.flags.resume },
        parallelism: this.flags.parallelism ?? runtime.s.apply.parallelism,
        rollback: !this.flags['no-rollback'],
        // A saved plan was reviewed when it was made: it applies without asking (as Terraform's does).
        autoApprove: this.flags['auto-approve'] || saved !== undefined,
        verbose: this.flags.verbose,
        prepare: async ({ resumable }) => {
          for (const id of resumable) {
            if (!io.json) this.log(`Resuming unfinished run ${id}...`);
            const r = await flow.resumeRun(store, runtime, id, loaded?.desired.resources, {
              verbose: this.flags.verbose,
              io,
            });
            if (!io.json) this.log(summaryText(r, 'apply'));
          }
          if (saved) {
            await assertPlanCurrent(store, saved);
            return { plan: saved, desired: loaded?.desired.resources ?? [] };
          }
          const plan = await makePlan(
            { store, provider: runtime.provider },
            {
              desired: loaded!.desired.resources,
              warnings: loaded!.desired.warnings,
              config: { path: loaded!.path, sha256: loaded!.sha256 },
              operation: 'apply',
              refresh: this.flags.refresh,
              ...(this.flags.target ? { targets: this.flags.target } : {}),
            },
          );
          return { plan, desired: loaded!.desired.resources };
        },
      },
      io,
    );
  }
}
