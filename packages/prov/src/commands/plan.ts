import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { useColor } from '@stratumiops/shared/output';
import { acceptNewHostKeysFlag, ProvCommand, targetFlag } from '../cli/base.js';
import { certInventory, expiringCerts } from '../core/certs.js';
import { makePlan } from '../core/engine.js';
import { driftEvents, EVENTS_FILE } from '../core/observe.js';
import { hasChanges, renderPlan } from '../core/plan.js';
import { configFile, writeAtomic } from '../core/workspace.js';
import { Runtime } from '../runtime.js';

export default class Plan extends ProvCommand<typeof Plan> {
  static override summary = 'Show what apply would change: config vs recorded state vs real resources';
  static override description =
    'Lists each create, update, replace and delete with per-attribute differences, drift found on refresh, and a summary line. Save it with -o and pass the file to apply; apply refuses a saved plan if state changed since. Exit 0; with --detailed-exitcode, 2 when there are changes.';
  static override args = { config: Args.string({ description: 'Nickel config file (default: prov.ncl)' }) };
  static override flags = {
    out: Flags.string({ description: 'save the plan to this file, for apply', char: 'o', helpValue: '<plan.json>' }),
    refresh: Flags.boolean({
      description: 'query the providers for the real state (--no-refresh: recorded state only)',
      default: true,
      allowNo: true,
    }),
    destroy: Flags.boolean({ description: 'plan destroying everything in state (or the targets)' }),
    target: targetFlag,
    'detailed-exitcode': Flags.boolean({ description: 'exit 2 when the plan has changes' }),
    'accept-new-host-keys': acceptNewHostKeysFlag,
    'cert-expiry-days': Flags.integer({
      description: 'warn about recorded certificates (prov cert) expiring within this many days',
      default: 30,
      min: 0,
    }),
  };
  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan cluster.ncl -o plan.json',
    '<%= config.bin %> plan --target server.web-01 --no-refresh',
  ];

  async run() {
    const loaded = await this.loadInfra(configFile(this.args.config));
    const store = await this.openStore();
    const runtime = new Runtime(this.runtimeSettings(), loaded.infra);
    try {
      const plan = await makePlan(
        { store, provider: runtime.provider },
        {
          desired: loaded.desired.resources,
          warnings: loaded.desired.warnings,
          config: { path: loaded.path, sha256: loaded.sha256 },
          operation: this.flags.destroy ? 'destroy' : 'apply',
          refresh: this.flags.refresh,
          ...(this.flags.target ? { targets: this.flags.target } : {}),
        },
      );
      plan.warnings.push(...(await this.expiringCerts(store)));
      await this.recordDrift(plan);
      if (this.flags.out) writeAtomic(this.flags.out, `${JSON.stringify(plan, null, 2)}\n`, 0o600);
      if (!this.jsonEnabled()) {
        this.log(renderPlan(plan, { color: useColor(process.stdout) }));
        if (this.flags.out)
          this.log(`\nSaved the plan to ${this.flags.out}: apply it with 'prov apply ${this.flags.out}'.`);
      }
      if (this.flags['detailed-exitcode'] && hasChanges(plan)) {
        if (this.jsonEnabled()) this.logJson(plan);
        this.exit(2);
      }
      return plan;
    } finally {
      await runtime.close();
      await store.close();
    }
  }

  /** Drift found on refresh goes to the events file (prov events shows it with runs and state changes). */
  private async recordDrift(plan: import('../core/types.js').PlanDoc) {
    const events = driftEvents(plan);
    if (events.length === 0) return;
    mkdirSync(dirname(EVENTS_FILE), { recursive: true });
    appendFileSync(EVENTS_FILE, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  /** Certificates that prov cert installed and that expire soon: drift of time, not of config. */
  private async expiringCerts(store: import('../core/state.js').StateStore): Promise<string[]> {
    return expiringCerts(await certInventory(store), this.flags['cert-expiry-days']).map(
      (c) =>
        `certificate ${c.domain} on ${c.host} expires in ${c.days_left} days (${c.not_after}, serial ${c.serial}): prov cert rotate --domain ${c.domain}`,
    );
  }
}
