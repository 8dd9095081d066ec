import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';
import { parseSettings } from '../../core/cluster.js';
import { clusterStatus, type PgMember, readSecrets, switchover, waitForStatus } from '../../core/cluster-pg.js';
import { lockState } from '../../core/engine.js';
import { installRoot } from '../../core/executor.js';
import { runTaskserv } from '../../core/taskserv.js';

export default class ClusterUpgrade extends ClusterCommand<typeof ClusterUpgrade> {
  static override summary = 'Rolling upgrade of a PostgreSQL cluster, one member at a time, health-gated';
  static override description =
    'Replicas first, the leader last (after a switchover to a healthy replica). Each member gets the new version or settings and is restarted; then the gate: the cluster healthy with that member running, and --check (a script run on the member) exiting 0. A member that fails is rolled back to what it had and the upgrade stops there: the next members are never touched. Major PostgreSQL versions need pg_upgrade, which this does not do: a member that cannot start its data on the new binaries fails the gate and is rolled back.';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = {
    ...clusterFlags,
    version: Flags.string({ description: 'PostgreSQL version for every member' }),
    set: Flags.string({
      description: 'a Patroni setting for every member, key=value (repeatable), e.g. max_connections=200',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    check: Flags.string({
      description: 'shell script run on each upgraded member; non-zero fails the gate ($host, $pg_port, $root set)',
    }),
    'health-timeout': Flags.integer({ description: 'seconds a member has to become healthy', default: 120, min: 1 }),
    'auto-approve': Flags.boolean({ char: 'y', description: 'run without asking' }),
  };
  static override examples = [
    '<%= config.bin %> cluster upgrade pg-prod --version 15 --set max_connections=200 -y',
    '<%= config.bin %> cluster upgrade pg-prod --set shared_buffers=1GB --check \'psql -h "$root/run/patroni" -p "$pg_port" -d postgres -c "select 1"\'',
  ];

  async run() {
    const settings = parseSettings(this.flags.set);
    if (!this.flags.version && Object.keys(settings).length === 0)
      throw usageError('nothing to upgrade', { hint: 'pass --version and/or --set key=value' });
    const ctx = await this.clusterContext();
    const store = await this.openStore();
    const log = (s: string) => {
      if (!this.jsonEnabled()) this.log(s);
    };
    const rec = await ctx.clusters.get(this.args.name);
    if (rec.spec.kind !== 'postgresql-ha') throw usageError(`rolling upgrades are for PostgreSQL clusters so far`);
    const lock = await lockState(store, `cluster upgrade ${rec.name}`, null);
    try {
      const exec = await ctx.runtime.executor();
      const def = await ctx.runtime.definition('patroni');
      const members = await this.pgMembers(ctx, rec);
      const status = await clusterStatus(exec, rec.name, members);
      if (!status.healthy || !status.leader)
        throw new StratumError('failure', `cluster ${rec.name} is not healthy: not starting an upgrade`, {
          details: { status },
          hint: `prov cluster show ${rec.name}`,
        });
      const order = [
        ...members.filter((m) => m.host.name !== status.leader),
        members.find((m) => m.host.name === status.leader)!,
      ];
      const secrets = await readSecrets(exec, members[0]!);
      const timeoutMs = this.flags['health-timeout'] * 1000;
      const upgraded: string[] = [];
      const apply = (m: PgMember, version: string, config: Record<string, unknown>) =>
        runTaskserv('update', { exec, host: m.host, def, version, config: { ...config, ...secrets } });
      const gate = async (m: PgMember) => {
        await waitForStatus(
          exec,
          rec.name,
          members,
          (s) => s.healthy && s.members.some((x) => x.host === m.host.name && x.state === 'running'),
          `${m.host.name} healthy`,
          timeoutMs,
        );
        if (this.flags.check) {
          const root = installRoot(m.host);
          const r = await exec.run(m.host, {
            name: 'check',
            script: `set -eu\n${this.flags.check}`,
            env: { host: m.host.name, pg_port: String(m.config.pg_port), root, socket_dir: `${root}/run/patroni` },
            timeoutS: 300,
          });
          if (r.exitCode !== 0)
            throw new StratumError(
              'failure',
              `check failed on ${m.host.name} (exit ${r.exitCode}): ${(r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ')}`,
            );
        }
      };
      for (const m of order) {
        const others = members.filter((x) => x !== m);
        if (m.host.name === status.leader && others.length) {
          const now = await clusterStatus(exec, rec.name, members);
          const to = now.members.find((x) => x.host !== m.host.name && x.role === 'replica' && x.state === 'running');
          if (to) {
            log(`${m.host.name} leads: switching over to ${to.host}`);
            await switchover(exec, rec.name, members, m, to.host, String(secrets.rest_password));
          }
        }
        const version = this.flags.version ?? m.version;
        const config = { ...m.config, ...settings };
        log(`upgrading ${m.host.name}${this.flags.version ? ` to PostgreSQL ${version}` : ''}`);
        try {
          await apply(m, version, config);
          await gate(m);
        } catch (e) {
          log(`${m.host.name} failed: ${(e as Error).message}; rolling it back`);
          let restored = true;
          try {
            await apply(m, m.version, m.config);
            await waitForStatus(exec, rec.name, members, (s) => s.healthy, 'the cluster healthy again', timeoutMs);
          } catch {
            restored = false;
          }
          const untouched = order.slice(order.indexOf(m) + 1).map((x) => x.host.name);
          throw new StratumError(
            'failure',
            `upgrade of ${rec.name} stopped at ${m.host.name}: ${(e as Error).message}`,
            {
              details: { failed: m.host.name, rolled_back: restored, upgraded, untouched },
              hint: restored
                ? `${m.host.name} is back on what it had; ${untouched.length ? `${untouched.join(', ')} were not touched` : 'no other member was touched'}${upgraded.length ? `; ${upgraded.join(', ')} run the new version` : ''}`
                : `${m.host.name} could not be rolled back: prov cluster show ${rec.name}`,
            },
          );
        }
        // Recorded member by member: a stop half-way leaves a record that says who runs what.
        const svc = rec.spec.services.find((s) => s.service === 'patroni' && s.host === m.host.name)!;
        svc.version = version;
        svc.config = config;
        const st = await store.get(`taskserv.patroni.${m.host.name}`);
        if (st) {
          await store.put({
            ...st,
            attrs: { ...st.attrs, version, config: { ...(st.attrs.config as object), ...settings } },
            updated_at: new Date().toISOString(),
          });
        }
        rec.updated_at = new Date().toISOString();
        await ctx.clusters.save(rec, { locked: store });
        upgraded.push(m.host.name);
        log(`${m.host.name} upgraded and healthy`);
      }
      if (this.flags.version) {
        rec.spec.version = this.flags.version;
        rec.version = this.flags.version;
      }
      await ctx.clusters.save(rec, { locked: store });
      log(`${rec.name}: ${upgraded.length} member(s) upgraded.`);
      return { cluster: rec.name, upgraded, order: order.map((m) => m.host.name) };
    } finally {
      await lock.release();
      await store.close();
      await ctx.runtime.close();
    }
  }
}
