import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { conflictError } from '@stratumiops/shared/errors';
import { ProvCommand } from '../cli/base.js';
import * as flow from '../cli/flow.js';
import { loadResumable, lockState } from '../core/engine.js';
import { Runtime } from '../runtime.js';

export default class Resume extends ProvCommand<typeof Resume> {
  static override summary = 'Continue a run that was interrupted or crashed, from its last checkpoint';
  static override description =
    'Tasks recorded as done are kept; a task that was running when the process died is run again (providers adopt what it had created). If the run had failed and was rolling back, the rollback is finished. The config must be unchanged since the run started.';
  static override args = { 'run-id': Args.string({ description: 'run id (see prov history)', required: true }) };
  static override flags = {
    parallelism: Flags.integer({ description: 'tasks at the same time (default: as the run had)', min: 1 }),
    verbose: Flags.boolean({ char: 'v', description: 'print each task on stderr' }),
    'auto-approve': Flags.boolean({
      char: 'y',
      description: 'accepted for scripts: resume continues a run that was approved when it started, without asking',
    }),
  };
  static override examples = ['<%= config.bin %> resume 20261122-101500-a1b2c3'];

  async run() {
    const io = { json: this.jsonEnabled(), log: (s: string) => this.log(s) };
    const id = this.args['run-id'];
    const store = await this.openStore();
    let runtime: InstanceType<typeof Runtime> | undefined;
    try {
      const lock = await lockState(store, 'resume', id, id);
      try {
        const { run } = await loadResumable(store, id);
        const loaded = run.plan.config ? await this.loadInfra(run.plan.config.path) : undefined;
        if (loaded && run.plan.config && loaded.sha256 !== run.plan.config.sha256) {
          throw conflictError(`the config ${run.plan.config.path} changed since run ${id} started`, {
            hint: 'restore it, or drop the run with prov apply --abandon',
          });
        }
        runtime = new Runtime(this.runtimeSettings(), loaded?.infra);
        const r = await flow.resumeRun(store, runtime, id, loaded?.desired.resources, {
          verbose: this.flags.verbose,
          io,
          ...(this.flags.parallelism ? { parallelism: this.flags.parallelism } : {}),
        });
        if (!io.json) this.log(`Resumed run ${id}.`);
        return flow.finish(r, run.kind, io);
      } finally {
        await lock.release();
      }
    } finally {
      await runtime?.close();
      await store.close();
    }
  }
}
