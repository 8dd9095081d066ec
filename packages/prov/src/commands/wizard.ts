import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { runTypedialog, wizardForm } from '../adapters/typedialog.js';
import { ProvCommand } from '../cli/base.js';
import { checkConfig, configFailure, engineFor } from '../core/nickel.js';
import { databaseConfig } from '../core/wizard.js';
import { writeAtomic } from '../core/workspace.js';

export default class WizardCommand extends ProvCommand<typeof WizardCommand> {
  static override summary = 'Set up a cluster, a database or monitoring by answering a form';
  static override description =
    `The form (templates/wizards/<kind>.toml) is asked by typedialog with any of its front ends: tui on a terminal, cli (one answer per line), web (a local page), or read from --answers (or --defaults) for CI. The answers become Nickel: typedialog prov-gen for cluster and monitoring (servers, network, node_exporter and Prometheus), prov's PostgreSQL layout for database. Then every check of prov validate runs on the result; only a valid config is written, into --out (an existing file is never overwritten without --force).`;
  static override args = {
    kind: Args.string({
      description: 'what to set up',
      options: ['cluster', 'database', 'monitoring'],
      required: true,
    }),
  };
  static override flags = {
    answers: Flags.string({
      char: 'a',
      description: 'answers file (.yaml, .json, .toml): nothing is asked',
      helpValue: '<file>',
    }),
    defaults: Flags.boolean({ description: "take each field's default instead of asking" }),
    backend: Flags.string({ description: 'how to ask', options: ['tui', 'cli', 'web'] }),
    out: Flags.string({
      char: 'o',
      description: 'folder to write the config to (default: ./<kind>)',
      helpValue: '<dir>',
    }),
    force: Flags.boolean({ description: 'overwrite files already in --out' }),
  };
  static override examples = [
    '<%= config.bin %> wizard cluster',
    '<%= config.bin %> wizard database --backend cli -o db/',
    '<%= config.bin %> wizard monitoring --answers monitoring.yaml -o monitoring/',
  ];

  async run() {
    const kind = this.args.kind as 'cluster' | 'database' | 'monitoring';
    const form = wizardForm(kind);
    const out = resolve(this.flags.out ?? kind);
    const ask = [
      ...(this.flags.answers ? ['--answers', resolve(this.flags.answers)] : []),
      ...(this.flags.defaults ? ['--defaults'] : []),
      ...(this.flags.backend ? ['--backend', this.flags.backend] : []),
    ];
    const scratch = mkdtempSync(join(tmpdir(), 'prov-wizard-'));
    try {
      if (kind === 'database') {
        const answers = join(scratch, 'answers.json');
        await runTypedialog(['run', form, ...ask, '--format', 'json', '--out', answers]);
        writeAtomic(
          join(scratch, 'main.ncl'),
          databaseConfig(JSON.parse(readFileSync(answers, 'utf8')), `templates/wizards/${kind}.toml`),
        );
        rmSync(answers);
      } else {
        await runTypedialog(['prov-gen', form, ...ask, '--out', join(scratch, 'gen')]);
        for (const f of readdirSync(join(scratch, 'gen')))
          writeAtomic(join(scratch, f), readFileSync(join(scratch, 'gen', f)).toString());
        rmSync(join(scratch, 'gen'), { recursive: true });
      }
      const files = readdirSync(scratch)
        .filter((f) => f.endsWith('.ncl'))
        .sort();
      const engine = await engineFor(this.nickel);
      const report = await checkConfig(
        engine,
        join(scratch, 'main.ncl'),
        this.importPaths([]),
        await this.checkContext(),
      );
      if (report.errors.length) throw configFailure(join(scratch, 'main.ncl'), report);
      const clash = files.filter((f) => existsSync(join(out, f)));
      if (clash.length && !this.flags.force)
        throw new StratumError('conflict', `${out} already has ${clash.join(', ')}`, {
          hint: 'choose another folder with --out, or pass --force to overwrite',
        });
      mkdirSync(out, { recursive: true });
      for (const f of files) writeAtomic(join(out, f), readFileSync(join(scratch, f), 'utf8'));
      const doc = { kind, out, files, warnings: report.warnings };
      if (!this.jsonEnabled()) {
        for (const f of files) this.log(`wrote ${join(out, f)}`);
        this.log(`Valid (prov validate ran every check). Next: prov plan ${join(out, 'main.ncl')}`);
        if (report.warnings.length)
          this.log(`${report.warnings.length} warning(s): prov validate ${join(out, 'main.ncl')} lists them`);
      }
      return doc;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}
