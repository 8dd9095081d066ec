import { writeFileAtomic } from '@stratumiops/shared/fs';
import type { FormContext } from '../core/context.js';
import type { Answers } from '../core/engine.js';
import type { OutputFormat } from '../core/form.js';
import { hasSecrets, serialize } from '../core/output.js';
import type { TypedialogCommand } from './base.js';

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
    writeFileAtomic(opts.out, text, hasSecrets(ctx.form, values) ? 0o600 : 0o644);
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
