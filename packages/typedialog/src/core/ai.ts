/**
 * The ai backend's core: an LLM drafts a form's answers from a description. The form is described to the model
 * (ids, types, labels, help, options, rules, conditions, defaults), its JSON answer goes through `checkAnswers`,
 * the very check typed answers get, and a refused draft is sent back once with the errors. Password fields are
 * never described to the model nor taken from it: secrets come from a person or an answers file.
 */

import type { AgentReply, Caller, Message } from './agent/run.js';
import { extractJson } from './agent/schema.js';
import { checkAnswers, describeErrors, type FormContext } from './context.js';
import type { Answers, FieldError } from './engine.js';
import type { Field } from './form.js';

const TYPE_HINT: Record<Field['type'], string> = {
  text: 'string',
  password: 'string',
  editor: 'string (may span lines)',
  number: 'number',
  confirm: 'true or false',
  select: 'one option value (string)',
  'multi-select': 'array of option values',
  date: 'date "YYYY-MM-DD"',
  list: 'array of strings',
};

function describeField(ctx: FormContext, f: Field): string {
  const v = f.validation;
  const parts = [`- ${f.id} (${TYPE_HINT[f.type]}${f.required ? ', required' : ', optional'}): ${f.label}`];
  if (f.help) parts.push(`  help: ${f.help}`);
  if (f.options.length > 0) parts.push(`  options: ${f.options.map((o) => `${o.value} (${o.label})`).join(', ')}`);
  const rules: string[] = [];
  if (v.min_length !== undefined) rules.push(`at least ${v.min_length} characters`);
  if (v.max_length !== undefined) rules.push(`at most ${v.max_length} characters`);
  if (v.pattern !== undefined) rules.push(`matches /${v.pattern}/${v.message ? ` (${v.message})` : ''}`);
  if (v.min !== undefined) rules.push(`>= ${v.min === 'today' ? ctx.engine.today() : v.min}`);
  if (v.max !== undefined) rules.push(`<= ${v.max === 'today' ? ctx.engine.today() : v.max}`);
  if (v.step !== undefined) rules.push(`a multiple of ${v.step}${typeof v.min === 'number' ? ` from ${v.min}` : ''}`);
  if (v.min_items !== undefined) rules.push(`at least ${v.min_items} items`);
  if (v.max_items !== undefined) rules.push(`at most ${v.max_items} items`);
  if (rules.length > 0) parts.push(`  rules: ${rules.join('; ')}`);
  if (f.when) parts.push(`  only when: ${f.when} (leave it out otherwise)`);
  const d = ctx.engine.defaultOf(f);
  if (d !== undefined) parts.push(`  default: ${JSON.stringify(d)}`);
  return parts.join('\n');
}

/** The fields the model may draft: every field but passwords. */
export const draftable = (ctx: FormContext): Field[] => ctx.form.fields.filter((f) => f.type !== 'password');

export function draftPrompts(ctx: FormContext, description: string): { system: string; user: string } {
  const form = ctx.form;
  const system = [
    `You fill in the form "${form.title}" (${form.id}) from a person's description.`,
    'Answer with one JSON object only, no prose and no code fences: each key a field id below, each value of the type shown.',
    'Follow every rule. Leave out a field the description says nothing about when it is optional or has a default;',
    'leave out fields whose "only when" condition is false.',
    '',
    `Today is ${ctx.engine.today()}.`,
    ...(form.description ? ['', `About the form: ${form.description}`] : []),
    '',
    'Fields:',
    ...draftable(ctx).map((f) => describeField(ctx, f)),
  ].join('\n');
  return { system, user: `Description:\n${description.trim()}` };
}

/**
 * An agent's output as a draft of the form: an object of field id to answer, checked like typed answers (`given`
 * wins). The agent's own output validation and repairs have run already.
 */
export async function draftFromOutput(
  ctx: FormContext,
  output: unknown,
  calls: AgentReply[],
  given: Answers = {},
): Promise<Draft> {
  const notObject = "the agent's output is not a JSON object of field id to value";
  return checkDraft(ctx, output, given, calls, notObject);
}

/**
 * A model's JSON as a draft: the form's fields taken (passwords never), the rest `dropped`, merged under `given`
 * and checked like typed answers. `unreadable` says why nothing could be taken, so that the defaults alone never
 * pass for a draft.
 */
async function checkDraft(
  ctx: FormContext,
  raw: unknown,
  given: Answers,
  calls: AgentReply[],
  notObject: string,
): Promise<Draft> {
  const allowed = new Set(draftable(ctx).map((f) => f.id));
  const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  const answers: Answers = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(isObject ? (raw as Answers) : {})) {
    if (allowed.has(k)) answers[k] = v;
    else dropped.push(k);
  }
  const unreadable = !isObject
    ? notObject
    : Object.keys(answers).length === 0 && dropped.length > 0
      ? `the answer names no field of the form (it has: ${dropped.join(', ')})`
      : undefined;
  const merged = { ...answers, ...given };
  const r = await checkAnswers(ctx, merged, { defaults: true });
  return {
    answers: merged,
    values: r.values,
    errors: r.errors,
    ignored: r.ignored,
    calls,
    dropped,
    ...(unreadable ? { unreadable } : {}),
  };
}

export interface Draft {
  /** The model's answers (password fields dropped), merged under `given`. */
  answers: Answers;
  /** The check of those answers: values accepted, errors left. */
  values: Answers;
  errors: FieldError[];
  ignored: string[];
  calls: AgentReply[];
  /** Fields the model answered that the form does not have, or passwords it should not have drafted. */
  dropped: string[];
  /** Why the last answer gave no draft at all (not a JSON object): the "valid" answers are only the defaults. */
  unreadable?: string;
}

/**
 * Drafts answers: the model's JSON, then `checkAnswers` (with `given`, e.g. an answers file, winning over the model's
 * values); refused answers go back to the model with the errors, at most `repairs` times.
 */
export async function draftAnswers(
  ctx: FormContext,
  description: string,
  caller: Caller,
  opts: { given?: Answers; repairs?: number; maxTokens?: number; temperature?: number } = {},
): Promise<Draft> {
  const prompts = draftPrompts(ctx, description);
  const messages: Message[] = [{ role: 'user', content: prompts.user }];
  const calls: AgentReply[] = [];
  const allowed = new Set(draftable(ctx).map((f) => f.id));
  const repairs = opts.repairs ?? 1;
  let last: Draft | undefined;
  for (let attempt = 0; attempt <= repairs; attempt++) {
    const reply = await caller.call({
      system: prompts.system,
      messages: [...messages],
      maxTokens: opts.maxTokens ?? 2048,
      temperature: opts.temperature,
      json: true,
    });
    calls.push(reply);
    const found = extractJson(reply.text);
    const notObject = found.ok ? 'the answer is not a JSON object of field id to value' : found.problem;
    last = await checkDraft(ctx, found.ok ? found.value : undefined, opts.given ?? {}, calls, notObject);
    const unreadable = last.unreadable;
    // What only a person can fix (a password the model is never asked for) is not sent back.
    const fixable = last.errors.filter((e) => e.field === '' || allowed.has(e.field));
    if (!unreadable && fixable.length === 0) return last;
    const problems = unreadable
      ? [`- ${unreadable}`]
      : describeErrors(ctx, fixable).map((e) => `- ${e.field || 'contract'}: ${e.message}`);
    messages.push(
      { role: 'assistant', content: reply.text },
      {
        role: 'user',
        content: [
          'These answers are refused by the form:',
          ...problems,
          '',
          'Answer again with the whole corrected JSON object only.',
        ].join('\n'),
      },
    );
  }
  return last as Draft;
}
