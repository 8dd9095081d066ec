/**
 * `[output] validation = "nickel://path.ncl"`: the answers are checked against a Nickel contract (path
 * relative to the form file's folder) with @stratumiops/nickel, loaded only when a form has one. A broken
 * contract is reported on the field it names.
 */
import { StratumError } from '@stratumiops/shared/errors';
import type { Answers, FieldError } from './engine.js';
import type { Form } from './form.js';

function message(title: string): string {
  // "contract broken by the value of `age`: must be at least 18" → "must be at least 18"
  const m = /^contract broken by (?:the value of `[^`]*`|a value)(?:: (.*))?$/s.exec(title);
  return (m ? (m[1] ?? 'breaks the contract') : title).trim();
}

/** Contract errors (at most one: evaluation stops at the first), mapped to the form's fields. */
export async function checkContract(form: Form, values: Answers): Promise<FieldError[]> {
  const path = form.output.contractPath;
  if (!path) return [];
  const nickel = await import('@stratumiops/nickel');
  try {
    await nickel.applyContract(values, path, { importPaths: [form.dir] });
    return [];
  } catch (e) {
    if (!(e instanceof nickel.NickelError)) throw e;
    const head = e.fieldPath[0];
    const field = head !== undefined && form.byId.has(head) ? head : '';
    if (e.kind === 'EvalError::MissingFieldDef' || e.kind === 'EvalError::FieldMissing') {
      return [{ field, code: 'contract', params: { message: 'required by the contract', contract: path } }];
    }
    if (e.kind === 'EvalError::BlameError') {
      const extra = /^extra field `([^`]*)`/.exec(message(e.title));
      // A contract's message may quote the value: never for a password.
      const secret = form.byId.get(field)?.type === 'password';
      const text = extra ? 'is not allowed by the contract' : secret ? 'is refused by the contract' : message(e.title);
      return [
        {
          field,
          code: 'contract',
          params: { message: text, ...(e.contract ? { contract: e.contract } : {}) },
        },
      ];
    }
    // Not the answers' fault: the contract file itself does not evaluate.
    throw new StratumError('validation', `the contract ${form.output.validation} does not evaluate: ${e.title}`, {
      hint: 'fix the contract file',
      details: nickel.nickelErrorJson(e),
      display: `typedialog: the contract ${form.output.validation} does not evaluate\n${nickel.formatNickelError(e)}`,
    });
  }
}

/** Whether the contract file evaluates at all (for `typedialog validate`): the error text, or undefined. */
export async function contractProblem(form: Form): Promise<string | undefined> {
  const path = form.output.contractPath;
  if (!path) return undefined;
  const nickel = await import('@stratumiops/nickel');
  try {
    await nickel.evaluateFile(path, { importPaths: [form.dir] });
    return undefined;
  } catch (e) {
    if (e instanceof nickel.NickelError) return nickel.formatNickelError(e);
    throw e;
  }
}
