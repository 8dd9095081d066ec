/**
 * The base of typedialog's commands: locale choice, form loading, and how answers are collected
 * (answers file or --defaults without prompting; otherwise the backend runtime.ts makes).
 */
import type { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { StratumCommand } from '@stratumiops/shared/cli/command';
import { usageError } from '@stratumiops/shared/errors';
import { loadAnswers } from '../core/answers.js';
import { type AiOptions, type BackendOptions, CancelledError } from '../core/backend.js';
import { checkAnswers, createContext, type FormContext, invalidAnswers } from '../core/context.js';
import type { Answers } from '../core/engine.js';
import { type Form, loadForm } from '../core/form.js';
import { chooseLocale, formLocales } from '../core/i18n.js';
import { createBackend } from '../runtime.js';
import { tool } from '../tool.js';

export const localeFlag = Flags.string({
  description: 'language of the messages, e.g. es or es-ES (default: TYPEDIALOG_LOCALE, then LANG)',
  helpValue: '<locale>',
});
export const answersFlag = Flags.string({
  description: 'answers file (.json, .yaml, .toml; - reads stdin), validated exactly like typed answers',
  char: 'a',
  helpValue: '<file>',
});
export const defaultsFlag = Flags.boolean({ description: "take each field's default instead of asking" });
export const formatFlag = Flags.string({
  description: "output format (default: the form's [output] format)",
  options: ['json', 'yaml', 'toml', 'nickel'],
});
export const webFlags = {
  host: Flags.string({ description: 'web: address to listen on', default: '127.0.0.1', helpGroup: 'WEB' }),
  port: Flags.integer({ description: 'web: port (0: a free one)', min: 0, max: 65535, default: 0, helpGroup: 'WEB' }),
  open: Flags.boolean({ description: 'web: open the page in a browser', helpGroup: 'WEB' }),
  timeout: Flags.integer({
    description: 'web: give up after this many seconds without a valid submit (0: wait)',
    min: 0,
    default: 0,
    helpGroup: 'WEB',
  }),
};

export interface Collected {
  values: Answers;
  /** Answers given for fields whose condition is false. */
  ignored: string[];
  /** 'answers', 'defaults' or the backend that asked. */
  via: string;
}

export abstract class TypedialogCommand<T extends typeof Command = typeof Command> extends StratumCommand<T> {
  static override tool = tool;

  protected loadForm(path: string): Form {
    return loadForm(path);
  }

  protected context(form: Form, localeFlagValue: string | undefined): FormContext {
    const configured = (this.settings.values as { locale?: string }).locale || undefined;
    const locale = chooseLocale(localeFlagValue, configured, process.env, formLocales(form));
    const ctx = createContext(form, { locale });
    for (const p of ctx.messages.problems) this.logger.warn(p);
    return ctx;
  }

  protected note(text: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`typedialog: ${text}\n`);
  }

  /**
   * Answers for a form. --answers or --defaults without --backend: no prompt at all, every answer
   * checked (exit 3 listing each failing field). Otherwise the backend asks: tui on a terminal, cli off
   * one (piped lines); answers from a file are then the starting values.
   */
  protected async collect(
    ctx: FormContext,
    opts: {
      backend?: string;
      answers?: string;
      defaults?: boolean;
      web?: BackendOptions['web'];
      override?: Answers;
      ai?: AiOptions;
    },
  ): Promise<Collected> {
    const file = opts.answers ? loadAnswers(opts.answers) : undefined;
    const given = { ...file, ...opts.override };
    if ((file || opts.defaults) && !opts.backend) {
      const r = await checkAnswers(ctx, given, { defaults: true });
      if (r.errors.length > 0) throw invalidAnswers(ctx, r.errors, opts.answers ?? '--defaults');
      return { values: r.values, ignored: r.ignored, via: file ? 'answers' : 'defaults' };
    }
    const stdin = process.stdin;
    const type = opts.backend ?? (stdin.isTTY && !process.env.CI ? 'tui' : 'cli');
    if ((type === 'cli' || type === 'tui') && stdin.isTTY && process.env.CI) {
      throw usageError('CI is set: typedialog does not prompt', {
        hint: 'pass --answers <file> (json, yaml or toml) or --defaults',
      });
    }
    const host = opts.web?.host;
    if (type === 'web' && host && !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) {
      this.note(`warning: listening on ${host}, not loopback: anyone who can reach it and has the URL can answer`);
    }
    const backend = await createBackend(type);
    const initial = Object.keys(given).length > 0 ? given : undefined;
    try {
      const values = await backend.execute(ctx, {
        ...(initial ? { initial } : {}),
        ...(opts.ai ? { ai: opts.ai } : {}),
        web: {
          ...opts.web,
          onListening: (url) => process.stderr.write(`${ctx.messages.t('web-open', { url })}\n`),
        },
      });
      return { values, ignored: [], via: backend.name };
    } catch (e) {
      if (e instanceof CancelledError) {
        // The prompt left the cursor at the end of its line: the message starts on a line of its own.
        process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}typedialog: ${ctx.messages.t('cancelled')}\n`);
        this.exit(130);
      }
      throw e;
    }
  }
}
