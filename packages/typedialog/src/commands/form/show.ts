import * as Args from '@oclif/core/args';
import { renderTable } from '@stratumiops/shared/output';
import { localeFlag, TypedialogCommand } from '../../cli/base.js';

export default class FormShow extends TypedialogCommand<typeof FormShow> {
  static override summary = "Show a form's sections and fields";
  static override description =
    'Labels, help and options in the chosen language; each field with its type, whether it is required, its ' +
    'default, its rules and its condition.';
  static override args = { form: Args.string({ description: 'form file (TOML)', required: true }) };
  static override flags = { locale: localeFlag };
  static override examples = [
    '<%= config.bin %> form show examples/forms/employee_onboarding.toml',
    '<%= config.bin %> form show onboarding.toml --locale es --json',
  ];

  async run() {
    const form = this.loadForm(this.args.form);
    const ctx = this.context(form, this.flags.locale);
    const m = ctx.messages;
    const sections = form.sections.map((s) => ({
      id: s.id,
      title: m.sectionTitle(s),
      fields: s.fields.map((f) => ({
        id: f.id,
        type: f.type,
        label: m.label(f),
        required: f.required,
        ...(f.default !== undefined ? { default: f.default } : {}),
        ...(m.help(f) ? { help: m.help(f) } : {}),
        ...(Object.keys(f.validation).length > 0 ? { validation: f.validation } : {}),
        ...(f.options.length > 0
          ? { options: f.options.map((o) => ({ value: o.value, label: m.optionLabel(f, o) })) }
          : {}),
        ...(f.type === 'multi-select' ? { display_mode: f.display_mode } : {}),
        ...(f.when ? { when: f.when } : {}),
        line: f.line,
      })),
    }));
    this.log(`${m.formTitle(form)} (${form.id} ${form.version}, locale ${m.locale})`);
    const desc = m.formDescription(form);
    if (desc) this.log(desc);
    for (const s of sections) {
      this.log(`\n${s.title} [${s.id}]`);
      this.log(
        renderTable(
          s.fields.map((f) => ({
            id: f.id,
            type: f.type,
            label: f.label,
            required: f.required ? 'yes' : undefined,
            default: f.default,
            when: f.when,
          })),
        ),
      );
    }
    if (form.output.validation) this.log(`\noutput: ${form.output.format}, validated by ${form.output.validation}`);
    return {
      id: form.id,
      version: form.version,
      title: m.formTitle(form),
      locale: m.locale,
      sections,
      output: form.output,
    };
  }
}
