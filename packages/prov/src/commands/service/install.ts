import { Args, Flags } from '@oclif/core';
import { ProvCommand } from '../../base.js';

export default class ServiceInstall extends ProvCommand<typeof ServiceInstall> {
  static override summary = 'Install a service (taskserv) on hosts over SSH';
  static override description =
    'Runs the definition’s install, files, configure, start and health steps on each host (steps whose check passes are skipped, so it is idempotent), records taskserv.<service>.<host> in state, and rolls back (uninstalls) the hosts it completed if one host fails, unless --no-rollback.';
  static override args = {
    service: Args.string({
      description: 'service, e.g. containerd, etcd, postgresql, prometheus, node_exporter',
      required: true,
    }),
  };
  static override flags = {
    servers: Flags.string({
      description: 'hosts, comma-separated',
      required: true,
      delimiter: ',',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name,...>',
    }),
    version: Flags.string({ description: "service version (default: the definition's)" }),
    set: Flags.string({
      description: 'a definition variable, key=value (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    parallelism: Flags.integer({ description: 'hosts at the same time', default: 10, min: 1 }),
    'no-rollback': Flags.boolean({ description: 'on failure, keep the hosts that completed' }),
    file: Flags.string({
      char: 'f',
      description: 'Nickel config with hosts and taskserv settings (default: prov.ncl when present)',
    }),
    verbose: Flags.boolean({ char: 'v', description: 'print the steps’ output, host-prefixed, on stderr' }),
  };
  static override examples = [
    '<%= config.bin %> service install containerd --servers web-01,web-02',
    '<%= config.bin %> service install node_exporter --servers db-1 --set port=9101',
  ];

  async run() {
    const { existsSync } = await import('node:fs');
    const { makePlan } = await import('../../core/engine.js');
    const { Runtime } = await import('../../adapters/runtime.js');
    const { serviceResources } = await import('../../cli/service.js');
    const flow = await import('../../cli/flow.js');
    const io = { json: this.jsonEnabled(), log: (s: string) => this.log(s) };
    const cfg = this.flags.file ?? (existsSync('prov.ncl') ? 'prov.ncl' : undefined);
    const loaded = cfg ? await this.loadInfra(cfg) : undefined;
    const runtime = new Runtime(this.runtimeSettings(), loaded?.infra);
    const store = await this.openStore();
    try {
      const desired = await serviceResources(runtime, this.args.service, this.flags.servers, {
        ...(this.flags.version ? { version: this.flags.version } : {}),
        ...(this.flags.set ? { set: this.flags.set } : {}),
      });
      const { lock, runId } = await flow.lockForRun(store, 'service install', {}, io);
      try {
        const plan = await makePlan(
          { store, provider: runtime.provider },
          {
            desired,
            warnings: [],
            config: null,
            operation: 'apply',
            refresh: true,
            targets: desired.map((d) => d.address),
          },
        );
        const r = await flow.executeWithUi({
          store,
          runtime,
          plan,
          desired,
          kind: 'service',
          runId,
          parallelism: this.flags.parallelism,
          rollback: !this.flags['no-rollback'],
          autoApprove: true,
          verbose: this.flags.verbose,
          io,
          showPlan: !io.json,
        });
        return flow.finish(r, 'service', io);
      } finally {
        await lock.release();
      }
    } finally {
      await runtime.close();
      await store.close();
    }
  }
}
