import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { writeFiles } from '../adapters/provgen-files.js';
import { answersFlag, defaultsFlag, localeFlag, TypedialogCommand, webFlags } from '../cli/base.js';
import { checkAnswers, invalidAnswers } from '../core/context.js';
import { PROVIDERS } from '../core/provgen/config.js';
import { BUILTIN_SCHEMAS, BUILTIN_TEMPLATES, describe, FILES, shownPath } from '../core/provgen/generate.js';
import { provGen } from '../core/provgen/index.js';

export default class ProvGen extends TypedialogCommand<typeof ProvGen> {
  static override summary = "Generate Nickel infrastructure files from a form's answers";
  static override description =
    `Answers become an infrastructure config (provider, region, servers, taskservs, networking, security), ` +
    `rendered by templates/prov-gen/<provider>.ncl.njk into ${FILES.join(', ')}. The files are validated ` +
    `against the schemas (every contract of infrastructure.ncl) before anything is written; on any error nothing ` +
    'is written. Same answers, same bytes. Check them later with: prov validate OUT/main.ncl';
  static override args = {
    form: Args.string({ description: 'form file (TOML), e.g. examples/forms/cluster.toml', required: true }),
  };
  static override flags = {
    provider: Flags.string({ description: 'target provider (overrides the answer)', options: [...PROVIDERS] }),
    answers: answersFlag,
    defaults: defaultsFlag,
    backend: Flags.string({ description: 'how to ask when there are no answers', options: ['cli', 'tui', 'web'] }),
    out: Flags.string({
      description: 'folder to write the Nickel files to',
      char: 'o',
      aliases: ['output-dir'],
      default: 'infra',
      helpValue: '<dir>',
    }),
    templates: Flags.string({
      description: 'folder of <provider>.ncl.njk templates (default: the built-in ones)',
      helpValue: '<dir>',
    }),
    schemas: Flags.string({
      description: 'folder of infrastructure.ncl to validate against (default: ./schemas, else the built-in ones)',
      helpValue: '<dir>',
    }),
    'dry-run': Flags.boolean({ description: 'validate and print the files instead of writing them' }),
    locale: localeFlag,
    ...webFlags,
  };
  static override examples = [
    '<%= config.bin %> prov-gen examples/forms/cluster.toml --provider aws --defaults --out infra/',
    '<%= config.bin %> prov-gen cluster.toml --provider hetzner --answers answers.yaml --dry-run',
    '<%= config.bin %> prov-gen cluster.toml --provider upcloud -o infra/ && prov validate infra/main.ncl',
  ];

  async run() {
    const f = this.flags;
    const form = this.loadForm(this.args.form);
    const ctx = this.context(form, f.locale);
    const override = f.provider ? { provider: f.provider } : undefined;
    const got = await this.collect(ctx, {
      ...(f.backend ? { backend: f.backend } : {}),
      ...(f.answers ? { answers: f.answers } : {}),
      defaults: f.defaults,
      ...(override ? { override } : {}),
      web: { host: f.host, port: f.port, open: f.open, timeoutSec: f.timeout },
    });
    let values = got.values;
    if (override && values.provider !== override.provider) {
      // Asked interactively, the flag still wins; the conditions that read the provider are checked again.
      const r = await checkAnswers(ctx, { ...values, ...override });
      if (r.errors.length > 0) throw invalidAnswers(ctx, r.errors);
      values = r.values;
    }
    const schemasDir = f.schemas
      ? resolve(f.schemas)
      : existsSync('schemas/infrastructure.ncl')
        ? resolve('schemas')
        : BUILTIN_SCHEMAS;
    const templatesDir = f.templates ? resolve(f.templates) : BUILTIN_TEMPLATES;
    const outDir = resolve(f.out);
    const g = await provGen(ctx, values, { templatesDir, schemasDir, outDir });
    const json = this.jsonEnabled();
    for (const w of g.warnings) this.note(`warning: ${w}`);
    const doc = {
      form: form.id,
      provider: g.config.provider,
      schema_provider: g.config.schema_provider,
      region: g.config.region,
      servers: g.config.resources.servers.length,
      schemas: schemasDir,
      templates: templatesDir,
      out: outDir,
      written: !f['dry-run'],
      warnings: g.warnings,
    };
    if (f['dry-run']) {
      if (!json)
        for (const file of g.files)
          process.stdout.write(`==> ${join(shownPath(outDir), file.name)} <==\n${file.text}\n`);
      return {
        ...doc,
        files: g.files.map((file) => ({ ...describe(file, join(outDir, file.name)), text: file.text })),
      };
    }
    const written = writeFiles(g.files, outDir);
    for (const w of written) this.log(`wrote ${shownPath(w.path)} (${w.bytes} bytes)`);
    if (!json) {
      const again = `prov validate ${shownPath(join(outDir, 'main.ncl'))} -I ${shownPath(schemasDir)}`;
      const c = g.config;
      this.note(
        `${c.resources.servers.length} servers on ${c.provider} (${c.region}), validated against ` +
          `${shownPath(schemasDir)}; check again with: ${again}`,
      );
    }
    return { ...doc, files: written };
  }
}
