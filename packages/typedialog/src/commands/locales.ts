import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { renderTable } from '@stratumiops/shared/output';
import { TypedialogCommand } from '../cli/base.js';
import { expectedFormIds, formLocales, ftlIds, negotiate, TOOL_LOCALES_DIR, toolLocales } from '../core/i18n.js';

export default class Locales extends TypedialogCommand<typeof Locales> {
  static override summary = 'List the locales of a form and the messages each one lacks';
  static override description =
    "A form's texts are translated in <form folder>/locales/<locale>/<form id>.ftl (Fluent), with the ids " +
    'form-title, section-<id>, field-<id> (.help .placeholder .message) and option-<field>-<value>; the TOML text ' +
    "is the form's own language. typedialog's messages come in the locales listed as 'tool'.";
  static override args = { form: Args.string({ description: 'form file (TOML)', required: true }) };
  static override flags = {
    locale: Flags.string({ description: 'show only this locale, with every missing id', helpValue: '<locale>' }),
  };
  static override examples = [
    '<%= config.bin %> locales examples/forms/employee_onboarding.toml',
    '<%= config.bin %> locales onboarding.toml --locale es --json',
  ];

  async run() {
    const form = this.loadForm(this.args.form);
    const expected = expectedFormIds(form);
    const tool = toolLocales();
    const forms = formLocales(form);
    let all = [...new Set([form.locale, ...tool, ...forms])].sort();
    if (this.flags.locale) {
      const one = negotiate(this.flags.locale, all);
      all = one ? [one] : [this.flags.locale];
    }
    const toolIds = ftlIds(join(TOOL_LOCALES_DIR, 'en', 'typedialog.ftl')).ids;
    const rows = all.map((locale) => {
      const source = negotiate(locale, [form.locale]) !== undefined;
      const file = join(form.dir, 'locales', locale, `${form.id}.ftl`);
      const read = !source && existsSync(file) ? ftlIds(file) : undefined;
      const missing = source ? [] : expected.filter((id) => !read?.ids.has(id));
      const toolFile = join(TOOL_LOCALES_DIR, locale, 'typedialog.ftl');
      const toolRead = existsSync(toolFile) ? ftlIds(toolFile) : undefined;
      const toolMissing = toolRead ? [...toolIds].filter((id) => !toolRead.ids.has(id)) : [...toolIds];
      return {
        locale,
        form: source ? 'source (the TOML text)' : read ? file : 'none',
        form_missing: missing,
        tool: Boolean(toolRead),
        tool_missing: toolMissing,
        problems: [...(read?.errors ?? []), ...(toolRead?.errors ?? [])],
      };
    });
    this.log(
      renderTable(
        rows.map((r) => ({
          locale: r.locale,
          form: r.form === 'none' ? 'none' : r.form.startsWith('source') ? 'source' : 'translated',
          'missing (form)': `${r.form_missing.length}/${expected.length}`,
          tool: r.tool ? (r.tool_missing.length ? `${r.tool_missing.length} missing` : 'complete') : 'none (English)',
          problems: r.problems.length || undefined,
        })),
      ),
    );
    for (const r of rows) {
      if (r.form !== 'none' && r.form_missing.length > 0 && (this.flags.locale || r.form_missing.length <= 10)) {
        this.log(`\n${r.locale}: missing ${r.form_missing.join(', ')}`);
      }
      for (const p of r.problems) this.log(`${r.locale}: ${p}`);
    }
    return { form: form.id, source_locale: form.locale, expected, locales: rows };
  }
}
