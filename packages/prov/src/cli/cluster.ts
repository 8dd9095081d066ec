import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Flags } from '@oclif/core';
import { Runtime } from '../adapters/runtime.js';
import { acceptNewHostKeysFlag, ProvCommand } from '../base.js';
import { type ClusterRecord, ClusterStore, templateDirs } from '../core/cluster.js';
import { type PgMember, pgMembers } from '../core/cluster-pg.js';
import { makePlan } from '../core/engine.js';
import type { Executor, HostTarget } from '../core/executor.js';
import { runTaskserv } from '../core/taskserv.js';
import type { DesiredResource } from '../core/types.js';
import { runOperation } from './flow.js';

/** What every cluster command works with: the workspace's clusters, hosts from the config, SSH. */
export interface ClusterContext {
  clusters: ClusterStore;
  runtime: Runtime;
  /** The hosts of a cluster by name. */
  targets(rec: ClusterRecord): Promise<Record<string, HostTarget>>;
}

export const clusterFlags = {
  file: Flags.string({ char: 'f', description: 'Nickel config with the hosts (default: prov.ncl when present)' }),
  'accept-new-host-keys': acceptNewHostKeysFlag,
  verbose: Flags.boolean({ char: 'v', description: 'print the steps’ output, host-prefixed, on stderr' }),
};

export abstract class ClusterCommand<T extends typeof Command> extends ProvCommand<T> {
  protected templateDirs(): string[] {
    const v = this.settings.values as { clusters: { template_dirs: string[] } };
    return templateDirs(v.clusters.template_dirs.map((d) => resolve(d)));
  }

  protected async clusterContext(): Promise<ClusterContext> {
    const file = (this.flags as { file?: string }).file ?? (existsSync('prov.ncl') ? 'prov.ncl' : undefined);
    const loaded = file ? await this.loadInfra(file) : undefined;
    const runtime = new Runtime(this.runtimeSettings(), loaded?.infra);
    return {
      clusters: ClusterStore.forWorkspace(() => this.openStore()),
      runtime,
      targets: async (rec) => {
        const hosts = [...new Set(rec.spec.services.map((s) => s.host))];
        const list = await runtime.targets(hosts);
        return Object.fromEntries(list.map((t) => [t.name, t]));
      },
    };
  }

  /** Runs a definition's stop or start (with health) phase on one member of a PostgreSQL cluster. */
  protected memberPhase(runtime: Runtime, exec: Executor) {
    return async (m: PgMember, phase: 'stop' | 'start', version?: string) => {
      await runTaskserv(phase, {
        exec,
        host: m.host,
        def: await runtime.definition('patroni'),
        version: version ?? m.version,
        config: m.config,
      });
    };
  }

  /** The Patroni members of a cluster with their hosts. */
  protected async pgMembers(ctx: ClusterContext, rec: ClusterRecord): Promise<PgMember[]> {
    return pgMembers(rec, await ctx.targets(rec));
  }

  /**
   * One locked, planned, checkpointed run over a cluster's resources, like apply: `install` makes `addresses`
   * exactly `desired`; with an empty desired it uninstalls them. Closes the runtime and the store.
   */
  protected async runClusterResources(
    runtime: Runtime,
    what: string,
    desired: DesiredResource[],
    opts: { addresses?: string[]; parallelism?: number; rollback?: boolean; autoApprove: boolean },
  ) {
    const store = await this.openStore();
    const targets = opts.addresses ?? desired.map((d) => d.address);
    return runOperation(
      store,
      runtime,
      {
        lockName: what,
        report: 'service',
        parallelism: opts.parallelism ?? 10,
        rollback: opts.rollback ?? true,
        autoApprove: opts.autoApprove,
        verbose: Boolean((this.flags as { verbose?: boolean }).verbose),
        prepare: async () => ({
          desired,
          plan: await makePlan(
            { store, provider: runtime.provider },
            { desired, warnings: [], config: null, operation: 'apply', refresh: true, targets },
          ),
        }),
      },
      { json: this.jsonEnabled(), log: (s: string) => this.log(s) },
    );
  }
}
