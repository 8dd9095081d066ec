import * as Args from '@oclif/core/args';
import { StratumError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';
import { clusterStatus } from '../../core/cluster-pg.js';
import { runTaskserv } from '../../core/taskserv.js';

export default class ClusterShow extends ClusterCommand<typeof ClusterShow> {
  static override summary = 'Show a cluster: members, roles, versions, lag and health';
  static override description =
    'For a PostgreSQL cluster, roles (leader, replica), state, timeline, lag and PostgreSQL version come from Patroni’s REST API on each member; for other kinds, each service’s status on each member. Exits 1 when the cluster is not healthy.';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = { file: clusterFlags.file, 'accept-new-host-keys': clusterFlags['accept-new-host-keys'] };
  static override examples = [
    '<%= config.bin %> cluster show pg-prod',
    '<%= config.bin %> cluster show pg-prod --json',
  ];

  async run() {
    const ctx = await this.clusterContext();
    try {
      const rec = await ctx.clusters.get(this.args.name);
      const exec = await ctx.runtime.executor();
      let out: Record<string, unknown>;
      if (rec.spec.kind === 'postgresql-ha') {
        const s = await clusterStatus(exec, rec.name, await this.pgMembers(ctx, rec));
        out = { ...s, template: rec.template, kind: rec.spec.kind };
        if (!this.jsonEnabled()) {
          this.log(
            `${rec.name}: ${rec.spec.description}; leader ${s.leader ?? 'none'}; ${s.healthy ? 'healthy' : 'NOT healthy'}`,
          );
          this.log(
            renderTable(
              s.members.map((m) => ({
                member: m.host,
                role: m.role,
                state: m.state,
                timeline: m.timeline ?? '',
                'lag MB': m.lag_mb ?? '',
                version: m.version ?? '',
                port: m.pg_port,
              })),
            ),
          );
        }
      } else {
        const targets = await ctx.targets(rec);
        const rows = await Promise.all(
          rec.spec.services.map(async (sv) => {
            const rep = await runTaskserv('status', {
              exec,
              host: targets[sv.host]!,
              def: await ctx.runtime.definition(sv.service),
              ...(sv.version ? { version: sv.version } : {}),
              config: sv.config,
            }).catch(() => ({ status: 'unreachable' }));
            const status = rep.status ?? 'unknown';
            // A service set not to start (start = false) is as it should be when installed and stopped.
            const ok =
              status === 'running' || status === 'installed' || (sv.config.start === false && status === 'stopped');
            return { member: sv.host, service: sv.service, status, ok, version: sv.version ?? '' };
          }),
        );
        const healthy = rows.every((r) => r.ok);
        out = { name: rec.name, template: rec.template, kind: rec.spec.kind, healthy, services: rows };
        if (!this.jsonEnabled()) {
          this.log(`${rec.name}: ${rec.spec.description}; ${healthy ? 'healthy' : 'NOT healthy'}`);
          this.log(renderTable(rows));
        }
      }
      if (!out.healthy)
        throw new StratumError('failure', `cluster ${rec.name} is not healthy`, {
          details: out,
          hint: 'see the member states above',
        });
      return out;
    } finally {
      await ctx.runtime.close();
    }
  }
}
