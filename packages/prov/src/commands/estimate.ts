import { relative } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ProvCommand } from '../cli/base.js';
import {
  diffEstimates,
  estimate,
  loadPriceTables,
  readPlanResources,
  renderCostDiff,
  renderEstimate,
} from '../core/estimate.js';
import type { DesiredResource } from '../core/types.js';
import { configFile } from '../core/workspace.js';

export default class Estimate extends ProvCommand<typeof Estimate> {
  static override summary = 'Estimate the monthly cost of a config or a saved plan';
  static override description =
    "Prices every server from dated price tables per provider, region and plan (data/prices/<provider>.json, printed with their date): hourly price × 730 hours, disks per GB-month, public addresses per hour, in exact decimals. Parts billed by use (data transfer, CPU credits) are listed as 'depends on usage' and left out of the total. Your own tables in .prov/prices/ (or --prices DIR) override the shipped ones region by region and plan by plan. --diff OLD NEW gives the monthly change per resource, for a pull request comment. The JSON follows infracost's breakdown (resources, costComponents, decimal strings).";
  static override args = {
    config: Args.string({ description: 'Nickel config, or a plan saved with prov plan -o (default: prov.ncl)' }),
    other: Args.string({ description: 'with --diff: the new config or plan' }),
  };
  static override flags = {
    diff: Flags.boolean({ description: 'compare two configs or plans: CONFIG is the old one, OTHER the new one' }),
    region: Flags.string({ description: 'price in this region instead of the configured one', helpValue: '<region>' }),
    prices: Flags.string({
      description: 'folder of price tables overriding the shipped ones (default: .prov/prices)',
      helpValue: '<dir>',
    }),
  };
  static override aliases = ['cost', 'mcp:estimate'];
  static override examples = [
    '<%= config.bin %> estimate cluster.ncl',
    '<%= config.bin %> estimate plan.json --json',
    '<%= config.bin %> estimate --diff main.ncl branch.ncl',
    '<%= config.bin %> estimate cluster.ncl --region eu-west-1',
  ];

  async run() {
    const tables = loadPriceTables([this.flags.prices ?? '.prov/prices']);
    const shown = (file: string) => {
      const r = relative(process.cwd(), file);
      return r && !r.startsWith('..') ? r : file;
    };
    const priced = async (file: string) => estimate(await this.resources(file), tables, shown(file));
    if (this.flags.diff) {
      if (!this.args.config || !this.args.other)
        throw usageError('--diff needs two files: the old and the new config or plan', {
          hint: 'prov estimate --diff main.ncl branch.ncl',
        });
      const d = diffEstimates(await priced(this.args.config), await priced(this.args.other));
      if (!this.jsonEnabled()) this.log(renderCostDiff(d));
      return d;
    }
    if (this.args.other) throw usageError('one config at a time', { hint: 'to compare two, pass --diff OLD NEW' });
    const e = await priced(configFile(this.args.config));
    if (!this.jsonEnabled()) this.log(renderEstimate(e));
    return e;
  }

  /** The resources a config asks for, or those a saved plan leaves in place; --region re-homes the servers. */
  private async resources(file: string): Promise<DesiredResource[]> {
    let list: DesiredResource[];
    if (file.endsWith('.json')) {
      list = readPlanResources(file);
    } else list = (await this.loadInfra(file)).desired.resources;
    const region = this.flags.region;
    if (!region) return list;
    return list.map((r) => (r.kind === 'server' ? { ...r, attrs: { ...r.attrs, region, zone: region } } : r));
  }
}
