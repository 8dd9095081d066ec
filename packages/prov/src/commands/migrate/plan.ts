import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ProvCommand } from '../../cli/base.js';
import { dec, fixed } from '../../core/decimal.js';
import { loadPriceTables } from '../../core/estimate.js';
import { migrationDocument, renderMigration } from '../../core/migrate.js';
import { writeAtomic } from '../../core/workspace.js';

export default class MigratePlan extends ProvCommand<typeof MigratePlan> {
  static override summary = 'Plan the migration from one config to another (another provider, region or plan)';
  static override description =
    "Compares the two configurations and writes the ordered steps that take you from the first to the second: create the target's servers and taskservs beside the source (recorded apart from state until the switch), freeze writes, move the data (PostgreSQL dump and restore, etcd keys) and check it arrived, reissue the certificates prov recorded for moved hosts, check the svault references, switch, destroy the source, and record the target in state. Every step has its undo; destroying the source is marked irreversible. The plan also gives the monthly cost change. It is a plan: nothing is changed (prov migrate apply runs it).";
  static override args = {
    current: Args.string({ description: 'current Nickel config', required: true }),
    target: Args.string({ description: 'target Nickel config', required: true }),
  };
  static override flags = {
    out: Flags.string({ description: 'save the plan (JSON) to this file', char: 'o', helpValue: '<file>' }),
  };
  static override examples = [
    '<%= config.bin %> migrate plan current.ncl target.ncl',
    '<%= config.bin %> migrate plan aws.ncl upcloud.ncl -o migration.json',
  ];

  async run() {
    const money = (v: string) => fixed(dec(v));
    const from = await this.loadInfra(this.args.current);
    const to = await this.loadInfra(this.args.target);
    const store = await this.openStore();
    let doc: Awaited<ReturnType<typeof migrationDocument>>;
    try {
      doc = await migrationDocument(from, to, { store, tables: loadPriceTables(['.prov/prices']) });
    } finally {
      await store.close();
    }
    if (this.flags.out) {
      writeAtomic(this.flags.out, `${JSON.stringify(doc, null, 2)}\n`);
    }
    if (!this.jsonEnabled()) {
      const line = Object.entries(doc.cost)
        .map(
          ([c, t]) =>
            `Monthly cost (${c}): ${money(t.before)} → ${money(t.after)} (${t.delta.startsWith('-') ? '' : '+'}${money(t.delta)})`,
        )
        .join('\n');
      this.log(renderMigration(doc, line || undefined));
      if (this.flags.out) this.log(`\nSaved the plan to ${this.flags.out}.`);
    }
    return doc;
  }
}
