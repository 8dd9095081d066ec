/**
 * The cli backend. On a terminal: line prompts with @inquirer/prompts (masked passwords, checkboxes,
 * $EDITOR), written to stderr so that stdout carries only the result. Off a terminal: one answer per line
 * of stdin, in the order the form asks (an empty line takes the default; `<<EOF` ... `EOF` gives an editor
 * field several lines). Either way each answer goes through the engine, and the whole set through
 * `checkAnswers`, as every other backend's.
 */
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { type Backend, type BackendOptions, CancelledError } from '../core/backend.js';
import { checkAnswers, describeErrors, errorLine, type FormContext, invalidAnswers } from '../core/context.js';
import { type Answers, isEmpty } from '../core/engine.js';
import type { Field } from '../core/form.js';
import { answerFromText, valueText } from '../core/input.js';

const NO_ANSWERS_HINT = 'pass --answers <file> (json, yaml or toml) or --defaults';

export class CliBackend implements Backend {
  readonly name = 'cli' as const;

  async execute(ctx: FormContext, opts: BackendOptions = {}): Promise<Answers> {
    const input = opts.input ?? process.stdin;
    const output = opts.output ?? process.stderr;
    if (input.isTTY && !process.env.CI) return promptAll(ctx, opts.initial ?? {}, input, output);
    return readLines(ctx, input, opts.initial ?? {}, output);
  }
}

/**
 * Piped answers: one line per asked field, each question printed (on stderr) as it is answered. The first bad
 * line stops the run (exit 3, with its line number): later lines would answer the wrong questions. A short input
 * is exit 2.
 */
async function readLines(
  ctx: FormContext,
  input: NodeJS.ReadableStream,
  initial: Answers,
  output: NodeJS.WritableStream,
): Promise<Answers> {
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  let lineNo = 0;
  const next = async (): Promise<string | undefined> => {
    const r = await lines.next();
    if (r.done) return undefined;
    lineNo++;
    return r.value;
  };
  const { engine } = ctx;
  const values: Answers = {};
  try {
    for (const field of ctx.form.fields) {
      if (!engine.isActive(field, values)) continue;
      const { messages: m } = ctx;
      let text = await next();
      if (text === undefined) {
        throw usageError(
          lineNo === 0
            ? 'stdin is not a terminal and gave no answers'
            : `stdin ended after ${lineNo} line(s), before '${field.id}' was answered`,
          { hint: NO_ANSWERS_HINT },
        );
      }
      // The question this line answers (after reading it: an empty stdin prints nothing but the error).
      output.write(`? ${m.label(field)}${field.required ? ' *' : ''} (${field.id})\n`);
      const heredoc = field.type === 'editor' ? /^<<([A-Za-z_]+)$/.exec(text.trim()) : null;
      if (heredoc) {
        const body: string[] = [];
        for (let l = await next(); l !== undefined && l !== heredoc[1]; l = await next()) body.push(l);
        text = body.join('\n');
      }
      if (text.trim() === '' && initial[field.id] !== undefined) text = valueText(field, initial[field.id]);
      const r = answerFromText(engine, field, text, true);
      if (r.error) {
        const line = lineNo;
        throw new StratumError('validation', `stdin line ${line}: ${errorLine(ctx, r.error)}`, {
          hint: `each line answers the next question, so the lines after ${line} were not read: fix line ${line} and run again`,
          details: { line, errors: describeErrors(ctx, [r.error]) },
        });
      }
      if (!isEmpty(r.value)) values[field.id] = r.value;
    }
  } finally {
    rl.close();
  }
  const result = await checkAnswers(ctx, values);
  if (result.errors.length > 0) throw invalidAnswers(ctx, result.errors, 'stdin');
  return result.values;
}

interface Io {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** On a terminal: ask every active field, then re-ask the ones the contract refused. */
async function promptAll(
  ctx: FormContext,
  initial: Answers,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<Answers> {
  const io = { input, output };
  const values: Answers = {};
  const asked = new Set<string>();
  let redo = new Set<string>();
  for (;;) {
    for (const field of ctx.form.fields) {
      if (!ctx.engine.isActive(field, values)) continue;
      if (asked.has(field.id) && !redo.has(field.id)) continue;
      const start = field.id in values ? values[field.id] : (initial[field.id] ?? ctx.engine.defaultOf(field));
      const v = await ask(ctx, field, start, io);
      asked.add(field.id);
      if (isEmpty(v)) delete values[field.id];
      else values[field.id] = v;
    }
    const result = await checkAnswers(ctx, values);
    if (result.errors.length === 0) return result.values;
    for (const e of result.errors) output.write(`✖ ${errorLine(ctx, e)}\n`);
    redo = new Set(result.errors.map((e) => e.field).filter((f) => ctx.form.byId.has(f)));
    if (redo.size === 0) throw invalidAnswers(ctx, result.errors);
  }
}

async function ask(ctx: FormContext, field: Field, start: unknown, terminal: Io): Promise<unknown> {
  const p = await import('@inquirer/prompts');
  // A prompt ends its output stream when done: give each one its own, piped without ending ours.
  const output = new PassThrough();
  output.pipe(terminal.output, { end: false });
  const io = { input: terminal.input, output };
  const { messages: m, engine } = ctx;
  const help = m.help(field);
  const message = `${m.label(field)}${field.required ? ' *' : ''}${help ? ` (${help})` : ''}`;
  const check = (text: string): true | string => {
    const r = answerFromText(engine, field, text);
    return r.error ? m.error(r.error, field) : true;
  };
  const startText = valueText(field, start);
  const dflt = startText === '' ? {} : { default: startText };
  try {
    switch (field.type) {
      case 'password': {
        const text = await p.password({ message, mask: '*', validate: check }, io);
        return answerFromText(engine, field, text).value;
      }
      case 'confirm':
        return await p.confirm({ message, ...(typeof start === 'boolean' ? { default: start } : {}) }, io);
      case 'select':
        return await p.select(
          {
            message,
            choices: field.options.map((o) => ({
              value: o.value,
              name: m.optionLabel(field, o),
              ...(o.help ? { description: o.help } : {}),
            })),
            ...(typeof start === 'string' ? { default: start } : {}),
          },
          io,
        );
      case 'multi-select': {
        const chosen = Array.isArray(start) ? start : [];
        return await p.checkbox(
          {
            message,
            choices: field.options.map((o) => ({
              value: o.value,
              name: m.optionLabel(field, o),
              checked: chosen.includes(o.value),
            })),
            validate: (cs) => {
              const err = engine.checkValue(
                field,
                cs.map((c) => c.value),
              );
              return err ? m.error(err, field) : true;
            },
          },
          io,
        );
      }
      case 'editor': {
        const text = await p.editor({ message, default: startText, validate: check }, io);
        return answerFromText(engine, field, text).value;
      }
      default: {
        const hint = field.type === 'list' ? ` [${m.t('list-hint')}]` : '';
        const text = await p.input({ message: `${message}${hint}`, ...dflt, validate: check }, io);
        return answerFromText(engine, field, text, true).value;
      }
    }
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new CancelledError();
    throw e;
  } finally {
    output.unpipe(terminal.output);
  }
}

export { NO_ANSWERS_HINT };
export const notInteractive = (what: string): StratumError => usageError(what, { hint: NO_ANSWERS_HINT });
