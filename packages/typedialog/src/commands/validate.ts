import * as Args from '@oclif/core/args';
import { StratumError } from '@stratumiops/shared/errors';
import { answersFlag, localeFlag, TypedialogCommand } from '../cli/base.js';
import { loadAnswers } from '../core/answers.js';
import { checkAnswers, invalidAnswers } from '../core/context.js';
import { contractProblem } from '../core/contract.js';
import { formName } from '../core/form.js';

export default class Validate extends TypedialogCommand<typeof Validate> {
  static override summary = 'Check a form file, and optionally an answers file against it';
  static override description =
    'Reports every problem of the form with its TOML line: syntax, unknown keys and field types, rules that do ' +
    'not apply to a type, defaults of the wrong type, conditions reading unknown or later fields, a Nickel ' +
    'contract that is missing or does not evaluate. With --answers, also every answer the form would refuse.';
  static override args = { form: Args.string({ description: 'form file (TOML)', required: true }) };
  static override flags = { answers: answersFlag, locale: localeFlag };
  static override examples = [
    '<%= config.bin %> validate examples/forms/employee_onboarding.toml',
    '<%= config.bin %> validate onboarding.toml --answers answers.json',
  ];

  async run() {
    const form = this.loadForm(this.args.form);
    const ctx = this.context(form, this.flags.locale);
    const problem = await contractProblem(form);
    if (problem) {
      throw new StratumError('validation', `the contract ${form.output.validation} does not evaluate`, {
        display: `typedialog: ${this.args.form}: the contract ${form.output.validation} does not evaluate\n${problem}`,
      });
    }
    const summary = {
      file: this.args.form,
      id: form.id,
      version: form.version,
      sections: form.sections.length,
      fields: form.fields.length,
      ...(form.output.validation ? { contract: form.output.validation } : {}),
      valid: true,
    };
    this.log(
      `ok    ${formName(form)}: ${form.id} ${form.version}, ${summary.sections} sections, ${summary.fields} fields` +
        (form.output.validation ? `, contract ${form.output.validation}` : ''),
    );
    if (!this.flags.answers) return summary;
    const r = await checkAnswers(ctx, loadAnswers(this.flags.answers), { defaults: true });
    if (r.errors.length > 0) throw invalidAnswers(ctx, r.errors, this.flags.answers);
    this.log(`ok    ${this.flags.answers}: ${Object.keys(r.values).length} answers`);
    return { ...summary, answers: { file: this.flags.answers, values: r.values, ignored: r.ignored } };
  }
}
