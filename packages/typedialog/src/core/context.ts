/** What every backend works with: the form, the engine, the messages, and the full check at submit. */
import { StratumError } from '@stratumiops/shared/errors';
import { checkContract } from './contract.js';
import { type Answers, Engine, type FieldError, type ValidationResult } from './engine.js';
import type { Form } from './form.js';
import { Messages } from './i18n.js';

export interface FormContext {
  form: Form;
  engine: Engine;
  messages: Messages;
}

export function createContext(form: Form, opts: { locale?: string; now?: () => Date } = {}): FormContext {
  return {
    form,
    engine: new Engine(form, opts.now ? { now: opts.now } : {}),
    messages: new Messages(opts.locale ?? 'en', form),
  };
}

/**
 * The check every submit goes through: the engine and the Nickel contract together, so that one round shows
 * every problem. The contract sees the answers the engine accepted; what it says about a field the engine
 * already refused is left out (one problem is not reported twice), and while fields are refused a contract
 * that cannot evaluate the partial answers is not an error of its own.
 */
export async function checkAnswers(
  ctx: FormContext,
  answers: Answers,
  opts: { defaults?: boolean } = {},
): Promise<ValidationResult> {
  const result = ctx.engine.validate(answers, opts);
  if (!ctx.form.output.contractPath) return result;
  let contract: FieldError[];
  try {
    contract = await checkContract(ctx.form, result.values);
  } catch (e) {
    if (result.errors.length > 0 && e instanceof StratumError) return result;
    throw e;
  }
  const refused = new Set(result.errors.map((e) => e.field));
  const more = contract.filter((e) => !refused.has(e.field) && !(result.errors.length > 0 && e.field === ''));
  return more.length > 0 ? { ...result, errors: [...result.errors, ...more] } : result;
}

export interface ErrorEntry {
  field: string;
  code: string;
  message: string;
  params: Record<string, string | number>;
}

/** Errors with their messages in the chosen language; password answers are never echoed. */
export function describeErrors(ctx: FormContext, errors: FieldError[]): ErrorEntry[] {
  return errors.map((e) => ({
    field: e.field,
    code: e.code,
    message: ctx.messages.error(e, ctx.form.byId.get(e.field)),
    params: e.params,
  }));
}

export function errorLine(ctx: FormContext, e: FieldError): string {
  if (e.field === '') return `${ctx.messages.error(e)}`;
  return ctx.messages.errorLine(e, ctx.form);
}

/** Exit 3 listing every failing field: one line each for people, the list under details for --json. */
export function invalidAnswers(ctx: FormContext, errors: FieldError[], source?: string): StratumError {
  const title = `${ctx.messages.t('answers-invalid', { count: errors.length })}${source ? ` (${source})` : ''}`;
  return new StratumError('validation', `${title}: ${errors.map((e) => e.field || 'contract').join(', ')}`, {
    details: { errors: describeErrors(ctx, errors) },
    display: [`typedialog: ${title}`, ...errors.map((e) => `  - ${errorLine(ctx, e)}`)].join('\n'),
  });
}
