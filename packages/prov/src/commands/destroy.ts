import { existsSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { acceptNewHostKeysFlag, ProvCommand, targetFlag } from '../cli/base.js';
import * as flow from '../cli/flow.js';
import { makePlan } from '../core/engine.js';
import { Runtime } from '../runtime.js';

export default class Destroy extends ProvCommand<typeof Destroy> {
  static override summary = 'Delete the resources in state (all, or the targets and what depends on them)';
  static override description =
    'Deletes in reverse dependency order with the same orchestrator as apply: checkpoints, retries, and rollback (re-creating what was deleted) if a deletion fails, unless --no-rollback.';
  static override args = {
    config: Args.string({ description: 'Nickel config, for provider settings (default: prov.ncl when present)' }),
  };
  static override flags = {
    'auto-approve': Flags.boolean({ description: 'destroy without asking', char: 'y' }),
    'json-stream': Flags.boolean({
      description:
        'one JSON object per line on stdout: the plan, each task start/end/retry/rollback, then the result (needs --auto-approve unless a saved plan)',
      exclusive: ['json'],
    }),
    target: targetFlag,
    'accept-new-host-keys': acceptNewHostKeysFlag,
    parallelism: Flags.integer({ description: 'tasks run at the same time', min: 1 }),
    'no-rollback': Flags.boolean({ description: 'on failure, keep what was deleted deleted' }),
    refresh: Flags.boolean({ description: 'refresh real state first', default: true, allowNo: true }),
    abandon: Flags.boolean({ description: 'mark an unfinished run abandoned first' }),
    verbose: Flags.boolean({ char: 'v', description: 'print each task and command output on stderr' }),
  };
  static override aliases = ['down'];
  static override examples = [
    '<%= config.bin %> destroy --auto-approve',
    '<%= config.bin %> destroy --target server.web-02',
  ];

  async run() {
    const io = this.flags['json-stream']
      ? { json: true, log: () => {}, stream: flow.jsonLines() }
      : { json: this.jsonEnabled(), log: (s: string) => this.log(s) };
    const cfg = this.args.config ?? (existsSync('prov.ncl') ? 'prov.ncl' : undefined);
    const loaded = cfg ? await this.loadInfra(cfg) : undefined;
    const store = await this.openStore();
    const runtime = new Runtime(this.runtimeSettings(), loaded?.infra);
    return flow.runOperation(
      store,
      runtime,
      {
        lockName: 'destroy',
        report: 'destroy',
        unfinished: { abandon: this.flags.abandon },
        parallelism: this.flags.parallelism ?? runtime.s.apply.parallelism,
        rollback: !this.flags['no-rollback'],
        autoApprove: this.flags['auto-approve'],
        verbose: this.flags.verbose,
        prepare: async () => ({
          plan: await makePlan(
            { store, provider: runtime.provider },
            {
              desired: [],
              warnings: [],
              config: null,
              operation: 'destroy',
              refresh: this.flags.refresh,
              ...(this.flags.target ? { targets: this.flags.target } : {}),
            },
          ),
          desired: [],
        }),
      },
      io,
    );
  }
}
