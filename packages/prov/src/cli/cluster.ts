import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import {
  type ClusterRecord,
  ClusterStore,
  clusterResources,
  clusterSecrets,
  evaluateTemplate,
  membersOf,
  secretVault,
  type TemplateInfo,
  templateDirs,
} from '../core/cluster.js';
import { type PgMember, pgMembers } from '../core/cluster-pg.js';
import { makePlan } from '../core/engine.js';
import type { Executor, HostTarget } from '../core/executor.js';
import { engineFor } from '../core/nickel.js';
import { runTaskserv } from '../core/taskserv.js';
import type { Attrs, DesiredResource } from '../core/types.js';
import { Runtime } from '../runtime.js';
import { acceptNewHostKeysFlag, ProvCommand } from './base.js';
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

  /**
   * Makes a cluster from a template on the given servers, as one run (checkpointed, rolled back on failure).
   * It is recorded as being created first, so a create interrupted then resumed (prov resume) is a cluster
   * once all its services are in state; rolled back, it is forgotten. Generated secrets go to svault when the
   * workspace uses it (the run then holds references only); else only to the members.
   */
  protected async createCluster(
    ctx: ClusterContext,
    o: {
      name: string;
      template: TemplateInfo;
      servers: string[];
      version?: string;
      settings: Attrs;
      parallelism: number;
      rollback: boolean;
      autoApprove: boolean;
      dryRun?: boolean;
    },
  ) {
    await ctx.clusters.assertAbsent(o.name);
    const targets = await ctx.runtime.targets(o.servers);
    const params = {
      name: o.name,
      members: membersOf(targets),
      ...(o.version ? { version: o.version } : {}),
      settings: o.settings,
    };
    const spec = await evaluateTemplate(await engineFor(this.nickel), o.template, params, this.importPaths([]));
    if (o.dryRun) {
      await ctx.runtime.close();
      if (!this.jsonEnabled()) {
        this.log(`${spec.name}: ${spec.description}`);
        for (const s of spec.services)
          this.log(`  ${s.service} on ${s.host}${s.depends_on.length ? ` (after ${s.depends_on.join(', ')})` : ''}`);
      }
      return { dry_run: true as const, spec };
    }
    const hosts = Object.fromEntries(targets.map((t) => [t.name, t]));
    const vault = await secretVault();
    if (!vault && !this.jsonEnabled() && spec.kind !== 'generic')
      this.warn(
        'no svault for the generated secrets (SVAULT_TOKEN, and SVAULT_ADDR or prov vault init): they live only in this process, so an interrupted create cannot be resumed',
      );
    const secrets = await clusterSecrets(spec, vault);
    const desired = clusterResources(spec, hosts, secrets);
    const now = new Date().toISOString();
    const rec: ClusterRecord = {
      name: o.name,
      template: o.template.name,
      ...(o.version ? { version: o.version } : {}),
      settings: o.settings,
      spec,
      created_at: now,
      updated_at: now,
      former_members: [],
    };
    // Patroni's passwords are read back from the members when needed; a Kubernetes CA has no such home (with
    // svault, what is kept is the references).
    await ctx.clusters.save({ ...rec, status: 'creating' });
    if (spec.kind === 'kubernetes') ctx.clusters.saveSecrets(o.name, secrets);
    let run: Awaited<ReturnType<typeof this.runClusterResources>>;
    try {
      run = await this.runClusterResources(ctx.runtime, `cluster create ${o.name}`, desired, {
        parallelism: o.parallelism,
        rollback: o.rollback,
        autoApprove: o.autoApprove,
      });
    } catch (e) {
      // Rolled back (or never started): no cluster. Interrupted, or kept with --no-rollback: still being created.
      const status = (e as { details?: { status?: string } }).details?.status;
      if (status !== 'interrupted' && o.rollback) await ctx.clusters.remove(o.name).catch(() => {});
      throw e;
    }
    await ctx.clusters.save(rec);
    return { rec, spec, run };
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
