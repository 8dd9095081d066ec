import * as Args from '@oclif/core/args';
import { localeFlag, TypedialogCommand } from '../cli/base.js';
import { loadAnswers } from '../core/answers.js';
import { checkAnswers, invalidAnswers } from '../core/context.js';

export default class Check extends TypedialogCommand<typeof Check> {
  static override summary = 'Check an answers file against a form, without asking anything';
  static override description =
    'The answers are checked exactly as typed ones (types, required fields, validation rules, conditions, the ' +
    "form's Nickel contract); missing answers take their defaults. Exit 3 lists every failing field.";
  static override args = {
    form: Args.string({ description: 'form file (TOML)', required: true }),
    answers: Args.string({ description: 'answers file (.json, .yaml, .toml; - reads stdin)', required: true }),
  };
  static override flags = { locale: localeFlag };
  static override examples = [
    '<%= config.bin %> check onboarding.toml answers.json',
    '<%= config.bin %> check onboarding.toml answers.yaml --json',
  ];

  async run() {
    const form = this.loadForm(this.args.form);
    const ctx = this.context(form, this.flags.locale);
    const answers = loadAnswers(this.args.answers);
    const r = await checkAnswers(ctx, answers, { defaults: true });
    if (r.errors.length > 0) throw invalidAnswers(ctx, r.errors, this.args.answers);
    if (r.ignored.length > 0) this.note(ctx.messages.t('answers-ignored', { fields: r.ignored.join(', ') }));
    this.log(`ok    ${this.args.answers}: ${Object.keys(r.values).length} answers for ${form.id} ${form.version}`);
    return { valid: true, form: form.id, values: r.values, ignored: r.ignored };
  }
}
