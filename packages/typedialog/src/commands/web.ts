import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { answersFlag, formatFlag, localeFlag, TypedialogCommand, webFlags } from '../cli/base.js';
import { emitResult } from '../cli/result.js';
import type { OutputFormat } from '../core/form.js';

export default class Web extends TypedialogCommand<typeof Web> {
  static override summary = 'Serve a form as a local web page';
  static override description =
    'Same as run --backend web. Listens on loopback unless --host says otherwise, on a free port unless --port ' +
    'says otherwise, under a secret path printed on stderr. Answers are validated by the server with the same ' +
    'engine as every backend; the first valid submit is the result, then the server stops.';
  static override args = { form: Args.string({ description: 'form file (TOML)', required: true }) };
  static override flags = {
    ...webFlags,
    answers: answersFlag,
    out: Flags.string({
      description: 'write the result to this file instead of stdout',
      char: 'o',
      aliases: ['output'],
      helpValue: '<file>',
    }),
    format: formatFlag,
    locale: localeFlag,
  };
  static override examples = [
    '<%= config.bin %> web onboarding.toml --open',
    '<%= config.bin %> web onboarding.toml --port 8080 -o answers.json',
  ];

  async run() {
    const form = this.loadForm(this.args.form);
    const ctx = this.context(form, this.flags.locale);
    const got = await this.collect(ctx, {
      backend: 'web',
      ...(this.flags.answers ? { answers: this.flags.answers } : {}),
      web: { host: this.flags.host, port: this.flags.port, open: this.flags.open, timeoutSec: this.flags.timeout },
    });
    return emitResult(this, ctx, got.values, {
      format: (this.flags.format ?? form.output.format) as OutputFormat,
      out: this.flags.out,
      via: got.via,
      ignored: got.ignored,
    });
  }
}
