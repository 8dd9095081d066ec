import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { FleetCommand, fleetFlags } from '../cli/fleet.js';
import { checkHealth, inParallel } from '../core/observe.js';

export default class Health extends FleetCommand<typeof Health> {
  static override summary = "Run every taskserv's health checks across the fleet, in parallel";
  static override description =
    "For each taskserv of the config on each of its hosts, runs the definition's health steps (with the environment apply gives them) over prov's SSH connections, up to --parallelism at once, and prints one row each: healthy, unhealthy (the failing check and its last line), unreachable, or no-check. Each check runs once; --wait gives it the retries of its definition. Exit 0 when all are healthy, 1 otherwise.";
  static override flags = {
    ...fleetFlags,
    service: Flags.string({ description: 'only this taskserv', helpValue: '<name>' }),
    parallelism: Flags.integer({ description: 'checks at once', default: 10, min: 1 }),
    wait: Flags.boolean({ description: 'retry each check as its definition says (for a service that is starting)' }),
  };
  static override examples = [
    '<%= config.bin %> health',
    '<%= config.bin %> health --cluster pg-prod --json',
    '<%= config.bin %> health --service etcd --wait',
  ];

  async run() {
    const { loaded, runtime } = await this.fleet(this.flags.file);
    try {
      let placed = this.placementsOn(loaded, this.hostNames(loaded, this.flags.cluster));
      if (this.flags.service) placed = placed.filter((p) => p.service === this.flags.service);
      if (placed.length === 0) {
        if (!this.jsonEnabled()) this.log('No taskservs to check.');
        return { checks: [], healthy: 0, unhealthy: 0 };
      }
      const { targets: hosts, exec } = await this.reach(runtime, loaded, [...new Set(placed.map((p) => p.host))]);
      const rows = await inParallel(placed, this.flags.parallelism, async (p) =>
        checkHealth(
          exec,
          hosts.find((h) => h.name === p.host)!,
          await runtime.definition(p.service),
          p,
          this.flags.wait,
        ),
      );
      const bad = rows.filter((r) => r.status === 'unhealthy' || r.status === 'unreachable');
      const doc = { checks: rows, healthy: rows.filter((r) => r.status === 'healthy').length, unhealthy: bad.length };
      if (!this.jsonEnabled()) {
        this.log(renderTable(rows.map((r) => ({ ...r }))));
        this.log(
          `\n${doc.healthy} healthy, ${bad.length} failing, ${rows.length - doc.healthy - bad.length} without a check`,
        );
      }
      if (bad.length)
        throw new StratumError(
          'failure',
          `${bad.length} of ${rows.length} health checks failing: ${bad.map((b) => `${b.service}@${b.host}`).join(', ')}`,
          {
            details: doc,
          },
        );
      return doc;
    } finally {
      await runtime.close();
    }
  }
}
