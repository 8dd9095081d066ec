import { existsSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { makePlan } from '../core/engine.js';
import { Runtime } from '../runtime.js';
import { acceptNewHostKeysFlag, ProvCommand } from './base.js';
import * as flow from './flow.js';
import { clusterServiceResources, serviceResources } from './service.js';

/**
 * `service install` and `service uninstall`: the same hosts, flags, lock and rollback; they differ only in
 * whether the taskserv.<service>.<host> resources are desired (installed) or not (uninstalled).
 */
export abstract class ServiceRunCommand extends ProvCommand<typeof ServiceRunCommand> {
  static override args = {
    service: Args.string({
      description: 'service, e.g. containerd, etcd, postgresql, prometheus, node_exporter',
      required: true,
    }),
  };
  static override flags = {
    servers: Flags.string({
      description: 'hosts, comma-separated',
      exactlyOne: ['servers', 'cluster'],
      delimiter: ',',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name,...>',
    }),
    cluster: Flags.string({
      description: "a cluster's members, with the template's per-member settings and order (instead of --servers)",
      helpValue: '<name>',
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
    'accept-new-host-keys': acceptNewHostKeysFlag,
    'auto-approve': Flags.boolean({
      char: 'y',
      description: 'run without asking (needed without a terminal: a TTY shows the plan and asks)',
    }),
  };

  protected abstract readonly operation: 'install' | 'uninstall';

  async run() {
    const io = { json: this.jsonEnabled(), log: (s: string) => this.log(s) };
    const cfg = this.flags.file ?? (existsSync('prov.ncl') ? 'prov.ncl' : undefined);
    const loaded = cfg ? await this.loadInfra(cfg) : undefined;
    const runtime = new Runtime(this.runtimeSettings(), loaded?.infra);
    const store = await this.openStore();
    return flow.runOperation(
      store,
      runtime,
      {
        lockName: `service ${this.operation}`,
        report: 'service',
        parallelism: this.flags.parallelism,
        rollback: !this.flags['no-rollback'],
        autoApprove: this.flags['auto-approve'],
        verbose: this.flags.verbose,
        prepare: async () => {
          const opts = {
            ...(this.flags.version ? { version: this.flags.version } : {}),
            ...(this.flags.set ? { set: this.flags.set } : {}),
          };
          const resources = this.flags.cluster
            ? await clusterServiceResources(runtime, this.flags.cluster, this.args.service, opts, () =>
                this.openStore(),
              )
            : await serviceResources(runtime, this.args.service, this.flags.servers ?? [], opts);
          // Targeting the resources limits the plan to these hosts; leaving them out of desired deletes them.
          const desired = this.operation === 'install' ? resources : [];
          const plan = await makePlan(
            { store, provider: runtime.provider },
            {
              desired,
              warnings: [],
              config: null,
              operation: 'apply',
              refresh: true,
              targets: resources.map((d) => d.address),
            },
          );
          return { plan, desired };
        },
      },
      io,
    );
  }
}
