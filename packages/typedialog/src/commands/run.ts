import { Args, Flags } from '@oclif/core';
import { answersFlag, defaultsFlag, formatFlag, localeFlag, TypedialogCommand, webFlags } from '../base.js';
import type { FormContext } from '../core/context.js';
import type { Answers } from '../core/engine.js';
import { writeAtomic } from '../core/files.js';
import type { OutputFormat } from '../core/form.js';
import { hasSecrets, serialize } from '../core/output.js';

export default class Run extends TypedialogCommand<typeof Run> {
  static override summary = 'Fill in a form with one of the backends';
  static override description =
    'The same form file drives every backend: tui on a terminal, cli otherwise (one answer per line of stdin). ' +
    'With --answers or --defaults (and no --backend) nothing is asked: every answer is checked and exit 3 lists ' +
    'each failing field. Off a terminal with nothing on stdin: exit 2, naming --answers and --defaults. The result ' +
    'goes to stdout (prompts go to stderr) or to --out.';
  static override args = { form: Args.string({ description: 'form file (TOML)', required: true }) };
  static override flags = {
    backend: Flags.string({
      description: 'how to ask: tui (on a terminal), cli or web; agent/ai are planned (TD6)',
      options: ['cli', 'tui', 'web', 'agent', 'ai', 'prov-gen'],
    }),
    answers: answersFlag,
    defaults: defaultsFlag,
    out: Flags.string({
      description: 'write the result to this file (atomically; owner-only when it holds a password)',
      char: 'o',
      aliases: ['output'],
      helpValue: '<file>',
    }),
    format: formatFlag,
    locale: localeFlag,
    ...webFlags,
  };
  static override examples = [
    '<%= config.bin %> run examples/forms/employee_onboarding.toml',
    '<%= config.bin %> run onboarding.toml --backend web --port 0 --open',
    '<%= config.bin %> run onboarding.toml --answers answers.yaml --out result.json',
    '<%= config.bin %> run onboarding.toml --defaults --format nickel',
    'printf "Ada\\nada@example.com\\n..." | <%= config.bin %> run onboarding.toml --backend cli',
  ];

  async run() {
    const form = this.loadForm(this.args.form);
    const ctx = this.context(form, this.flags.locale);
    const got = await this.collect(ctx, {
      ...(this.flags.backend ? { backend: this.flags.backend } : {}),
      ...(this.flags.answers ? { answers: this.flags.answers } : {}),
      defaults: this.flags.defaults,
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

/** Prints or writes the result; the --json document names what was done. */
export function emitResult(
  cmd: TypedialogCommand & { log(s: string): void },
  ctx: FormContext,
  values: Answers,
  opts: { format: OutputFormat; out: string | undefined; via: string; ignored: string[] },
) {
  const json = (cmd as unknown as { jsonEnabled(): boolean }).jsonEnabled();
  const text = serialize(values, opts.format);
  if (opts.ignored.length > 0 && !json) {
    process.stderr.write(`typedialog: ${ctx.messages.t('answers-ignored', { fields: opts.ignored.join(', ') })}\n`);
  }
  if (opts.out) {
    writeAtomic(opts.out, text, hasSecrets(ctx.form, values) ? 0o600 : 0o644);
    if (!json) process.stderr.write(`typedialog: wrote ${opts.out} (${opts.format})\n`);
  } else if (!json) process.stdout.write(text);
  return {
    form: ctx.form.id,
    version: ctx.form.version,
    via: opts.via,
    format: opts.format,
    ...(opts.out ? { out: opts.out } : {}),
    values,
    ignored: opts.ignored,
  };
}
