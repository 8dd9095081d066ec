import { relative } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ProvCommand } from '../cli/base.js';
import {
  atOrAbove,
  checkCompliance,
  evaluateConfig,
  type FRAMEWORKS,
  loadRules,
  renderJunit,
  renderSarif,
  renderText,
} from '../core/compliance.js';
import { engineFor } from '../core/nickel.js';
import { configFile, writeAtomic } from '../core/workspace.js';

export default class Compliance extends ProvCommand<typeof Compliance> {
  static override summary = 'Check a config against a compliance framework (SOC 2, HIPAA, GDPR, PCI DSS)';
  static override description =
    `Runs the rules mapped to the framework (data/compliance: stable rule ids, severities, the fields they read, a fix, and the framework's requirement ids in the manner of Prowler's compliance files) on the evaluated config. Each finding names the rule, the severity, the field and its file:line (its nearest written parent when it is not set) and how to fix it.

Suppress a finding with a comment on its line or the line above, with a reason: # prov:skip=PROV-NET-001 bastion, reviewed 2026-11. Suppressions are listed in every report; one without a reason is ignored.

Formats: text, json, sarif (SARIF 2.1.0 for GitHub code scanning), junit (JUnit XML for other CI systems); --out writes the report to a file and prints the summary. Exit 3 when a finding at or above --fail-on remains.`;
  static override args = { config: Args.string({ description: 'Nickel config file (default: prov.ncl)' }) };
  static override flags = {
    framework: Flags.string({
      description: 'framework whose rules run',
      options: ['soc2', 'hipaa', 'gdpr', 'pci'],
      required: true,
      char: 'f',
    }),
    format: Flags.string({
      description: 'report format',
      options: ['text', 'json', 'sarif', 'junit'],
      default: 'text',
    }),
    out: Flags.string({
      description: 'write the report to this file (stdout shows the summary)',
      char: 'o',
      helpValue: '<file>',
    }),
    'fail-on': Flags.string({
      description: 'exit 3 when a finding of this severity or higher remains (none: never)',
      options: ['info', 'low', 'medium', 'high', 'critical', 'none'],
      default: 'low',
    }),
  };
  static override aliases = ['mcp:compliance'];
  static override examples = [
    '<%= config.bin %> compliance cluster.ncl --framework soc2',
    '<%= config.bin %> compliance --framework pci --format sarif --out prov.sarif',
    '<%= config.bin %> compliance --framework hipaa --format junit -o compliance.xml --fail-on high',
  ];

  async run() {
    const framework = this.flags.framework as (typeof FRAMEWORKS)[number];
    const { rules, frameworks } = loadRules();
    const ev = await evaluateConfig(await engineFor(this.nickel), configFile(this.args.config), this.importPaths([]));
    const report = checkCompliance(ev, rules, frameworks[framework], framework);
    const rel = (f: string) => {
      const r = relative(process.cwd(), f);
      return r && !r.startsWith('..') ? r : f;
    };
    const format = this.jsonEnabled() ? 'json' : this.flags.format;
    let body: string;
    if (format === 'sarif') body = `${JSON.stringify(renderSarif(report, rules, rel, this.config.version), null, 2)}\n`;
    else if (format === 'junit') body = renderJunit(report, rules, rel);
    else if (format === 'json') body = `${JSON.stringify(report, null, 2)}\n`;
    else body = `${renderText(report, rel)}\n`;
    if (this.flags.out) {
      writeAtomic(this.flags.out, body);
      if (this.jsonEnabled()) process.stdout.write(body);
      else
        this.log(
          `${renderText(report, rel).split('\n').slice(-2).join('\n')}\nWrote the ${format} report to ${this.flags.out}.`,
        );
    } else process.stdout.write(body);
    const floor = this.flags['fail-on'];
    const failing = floor === 'none' ? [] : report.findings.filter((f) => atOrAbove(f.severity, floor as never));
    if (failing.length) {
      process.stderr.write(
        `prov: ${failing.length} finding${failing.length === 1 ? '' : 's'} at or above ${floor} (${report.framework.name})\n`,
      );
      this.exit(3);
    }
  }
}
