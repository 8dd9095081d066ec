import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClusterCommand, type ClusterContext, clusterFlags } from '../../cli/cluster.js';
import { type ClusterRecord, clusterResources, evaluateTemplate, findTemplate } from '../../core/cluster.js';
import { clusterStatus, readSecrets, waitForStatus } from '../../core/cluster-pg.js';
import { lockState } from '../../core/engine.js';
import { engineFor } from '../../core/nickel.js';
import { runTaskserv } from '../../core/taskserv.js';

export default class ClusterScale extends ClusterCommand<typeof ClusterScale> {
  static override summary = 'Add or remove members: PostgreSQL replicas, Kubernetes workers';
  static override description =
    'Growing: new members (from --servers, else hosts that were members before) get Patroni from the template and clone from the leader; done when they stream. Shrinking: replicas go first, never the leader; each is stopped, and only once the cluster no longer lists it is it uninstalled and its data removed. etcd members stay where they are (the DCS keeps its quorum). Kubernetes clusters: --workers N adds workers (containerd, kubeadm join with the cluster’s CA and token) or removes the newest (kubeadm reset, uninstall); control planes stay.';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = {
    ...clusterFlags,
    members: Flags.integer({
      description: 'members wanted in total (leader included)',
      min: 1,
      exclusive: ['replicas', 'workers'],
    }),
    replicas: Flags.integer({
      description: 'replicas wanted besides the leader',
      min: 0,
      exclusive: ['members', 'workers'],
    }),
    workers: Flags.integer({ description: 'Kubernetes workers wanted', min: 0, exclusive: ['members', 'replicas'] }),
    servers: Flags.string({
      description: 'hosts to add when growing',
      delimiter: ',',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name,...>',
    }),
    'auto-approve': Flags.boolean({ char: 'y', description: 'run without asking' }),
  };
  static override examples = [
    '<%= config.bin %> cluster scale pg-prod --replicas 2 -y',
    '<%= config.bin %> cluster scale pg-prod --members 4 --servers db-4 -y',
    '<%= config.bin %> cluster scale k8s-prod --workers 10 --servers w-4,w-5 -y',
  ];

  async run() {
    const ctx = await this.clusterContext();
    const rec = await ctx.clusters.get(this.args.name);
    if (rec.spec.kind === 'kubernetes') return this.scaleWorkers(ctx, rec);
    const want = this.flags.members ?? (this.flags.replicas !== undefined ? this.flags.replicas + 1 : undefined);
    if (want === undefined || rec.spec.kind !== 'postgresql-ha') {
      await ctx.runtime.close();
      throw usageError(
        rec.spec.kind === 'postgresql-ha' ? 'how many?' : `scaling ${rec.spec.kind} clusters is not supported yet`,
        { hint: 'PostgreSQL clusters: --members N or --replicas N; Kubernetes clusters: --workers N' },
      );
    }
    const exec = await ctx.runtime.executor();
    const members = await this.pgMembers(ctx, rec);
    const log = (s: string) => {
      if (!this.jsonEnabled()) this.log(s);
    };
    if (want === members.length) {
      await ctx.runtime.close();
      log(`${rec.name} already has ${want} member(s).`);
      return { cluster: rec.name, members: members.map((m) => m.host.name), added: [], removed: [] };
    }

    if (want < members.length) {
      const status = await clusterStatus(exec, rec.name, members);
      if (!status.leader) throw usageError(`${rec.name} has no leader now: fix it before removing members`);
      const removable = [...members].reverse().filter((m) => m.host.name !== status.leader);
      const remove = removable.slice(0, members.length - want);
      const store = await this.openStore();
      const lock = await lockState(store, `cluster scale ${rec.name}`, null);
      try {
        for (const m of remove) {
          const left = members.filter((x) => !remove.slice(0, remove.indexOf(m) + 1).includes(x));
          log(`removing ${m.host.name}: stopping Patroni`);
          const def = await ctx.runtime.definition('patroni');
          await runTaskserv('stop', { exec, host: m.host, def, version: m.version, config: m.config });
          await waitForStatus(
            exec,
            rec.name,
            left,
            (s) => !s.listed.includes(m.host.name) && s.healthy,
            `${m.host.name} leaving the cluster`,
          );
          log(`${m.host.name} is out of the cluster: removing its data`);
          await runTaskserv('uninstall', { exec, host: m.host, def, version: m.version, config: m.config });
          await store.remove(`taskserv.patroni.${m.host.name}`);
          rec.spec.services = rec.spec.services.filter((s) => !(s.service === 'patroni' && s.host === m.host.name));
          rec.former_members = [...new Set([...rec.former_members, m.host.name])];
          rec.updated_at = new Date().toISOString();
          await ctx.clusters.save(rec, { locked: store });
        }
      } finally {
        await lock.release();
        await store.close();
        await ctx.runtime.close();
      }
      const removed = remove.map((m) => m.host.name);
      log(`${rec.name}: removed ${removed.join(', ')}; ${want} member(s) left.`);
      return { cluster: rec.name, removed, added: [] };
    }

    // Growing.
    const current = new Set(members.map((m) => m.host.name));
    const candidates = (this.flags.servers ?? rec.former_members).filter((h) => !current.has(h));
    const add = candidates.slice(0, want - members.length);
    if (add.length < want - members.length) {
      await ctx.runtime.close();
      throw usageError(`${want - members.length} new member(s) needed, ${add.length} host(s) available`, {
        hint: 'name them with --servers',
      });
    }
    const secrets = await readSecrets(exec, members[0]!);
    const newTargets = await ctx.runtime.targets(add);
    const byName = { ...(await ctx.targets(rec)), ...Object.fromEntries(newTargets.map((t) => [t.name, t])) };
    let next = Math.max(...rec.spec.members.map((m) => m.index)) + 1;
    const known = new Map(rec.spec.members.map((m) => [m.host, m]));
    const allMembers = [
      ...rec.spec.members.filter((m) => current.has(m.host)),
      ...newTargets.map((t) => known.get(t.name) ?? { host: t.name, address: t.address, index: next++ }),
    ].sort((a, b) => a.index - b.index);
    const spec = await evaluateTemplate(
      await engineFor(this.nickel),
      findTemplate(rec.template, this.templateDirs()),
      { name: rec.name, members: allMembers, ...(rec.version ? { version: rec.version } : {}), settings: rec.settings },
      this.importPaths([]),
    );
    const newServices = spec.services.filter((s) => s.service === 'patroni' && add.includes(s.host));
    const desired = clusterResources(
      { ...spec, services: newServices.map((s) => ({ ...s, depends_on: [] })) },
      byName,
      {
        patroni: secrets,
      },
    );
    await this.runClusterResources(ctx.runtime, `cluster scale ${rec.name}`, desired, {
      autoApprove: this.flags['auto-approve'],
    });
    rec.spec.services = [...rec.spec.services, ...newServices];
    for (const m of allMembers) if (!rec.spec.members.some((x) => x.host === m.host)) rec.spec.members.push(m);
    rec.former_members = rec.former_members.filter((h) => !add.includes(h));
    rec.updated_at = new Date().toISOString();
    await ctx.clusters.save(rec);
    // The new members stream from the leader before the cluster counts as scaled.
    const after = await this.clusterContext();
    try {
      const all = await this.pgMembers(after, rec);
      await waitForStatus(
        await after.runtime.executor(),
        rec.name,
        all,
        (s) => s.healthy && add.every((h) => s.listed.includes(h)),
        `${add.join(', ')} streaming`,
      );
    } finally {
      await after.runtime.close();
    }
    log(`${rec.name}: added ${add.join(', ')}; ${want} member(s).`);
    return { cluster: rec.name, added: add, removed: [] };
  }

  /**
   * Kubernetes: workers are added with containerd and kubeadm join (after the first control plane, with the
   * cluster's CA and token), or removed newest first (kubeadm reset, uninstall). Control planes stay.
   */
  private async scaleWorkers(ctx: ClusterContext, rec: ClusterRecord) {
    const want = this.flags.workers;
    if (want === undefined) {
      await ctx.runtime.close();
      throw usageError('how many workers?', { hint: 'pass --workers N' });
    }
    const isWorker = (h: string) =>
      rec.spec.services.some((s) => s.service === 'kubernetes' && s.host === h && s.config.role === 'worker');
    const hosts = [...new Set(rec.spec.services.map((s) => s.host))];
    const workers = hosts.filter(isWorker);
    const log = (s: string) => {
      if (!this.jsonEnabled()) this.log(s);
    };
    if (want < workers.length) {
      const remove = workers.slice(want);
      const addresses = rec.spec.services
        .filter((s) => remove.includes(s.host))
        .map((s) => `taskserv.${s.service}.${s.host}`);
      await this.runClusterResources(ctx.runtime, `cluster scale ${rec.name}`, [], {
        addresses,
        rollback: false,
        autoApprove: this.flags['auto-approve'],
      });
      rec.spec.services = rec.spec.services.filter((s) => !remove.includes(s.host));
      rec.former_members = [...new Set([...rec.former_members, ...remove])];
      rec.updated_at = new Date().toISOString();
      await ctx.clusters.save(rec);
      log(`${rec.name}: removed worker(s) ${remove.join(', ')}; ${want} left.`);
      return { cluster: rec.name, removed: remove, added: [] };
    }
    const need = want - workers.length;
    const add = (this.flags.servers ?? rec.former_members).filter((h) => !hosts.includes(h)).slice(0, need);
    if (need === 0 || add.length < need) {
      await ctx.runtime.close();
      if (need === 0) {
        log(`${rec.name} already has ${want} worker(s).`);
        return { cluster: rec.name, added: [], removed: [] };
      }
      throw usageError(`${need} new worker(s) needed, ${add.length} host(s) available`, {
        hint: 'name them with --servers',
      });
    }
    const newTargets = await ctx.runtime.targets(add);
    const known = new Map(rec.spec.members.map((m) => [m.host, m]));
    let next = Math.max(...rec.spec.members.map((m) => m.index)) + 1;
    const members = [
      ...rec.spec.members.filter((m) => hosts.includes(m.host)),
      ...newTargets.map((t) => known.get(t.name) ?? { host: t.name, address: t.address, index: next++ }),
    ].sort((a, b) => a.index - b.index);
    const spec = await evaluateTemplate(
      await engineFor(this.nickel),
      findTemplate(rec.template, this.templateDirs()),
      { name: rec.name, members, ...(rec.version ? { version: rec.version } : {}), settings: rec.settings },
      this.importPaths([]),
    );
    const added = spec.services.filter((s) => add.includes(s.host));
    const byName = { ...(await ctx.targets(rec)), ...Object.fromEntries(newTargets.map((t) => [t.name, t])) };
    const desired = clusterResources({ ...spec, services: added }, byName, ctx.clusters.secrets(rec.name));
    await this.runClusterResources(ctx.runtime, `cluster scale ${rec.name}`, desired, {
      autoApprove: this.flags['auto-approve'],
    });
    rec.spec.services = [...rec.spec.services, ...added];
    for (const m of members) if (!rec.spec.members.some((x) => x.host === m.host)) rec.spec.members.push(m);
    rec.former_members = rec.former_members.filter((h) => !add.includes(h));
    rec.updated_at = new Date().toISOString();
    await ctx.clusters.save(rec);
    log(`${rec.name}: added worker(s) ${add.join(', ')}; ${want} worker(s).`);
    return { cluster: rec.name, added: add, removed: [] };
  }
}
