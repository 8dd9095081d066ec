/**
 * The one validation engine. Every backend (cli, tui, web, answers files, prov-gen) hands its answers
 * to `Engine`, so one answer is accepted or refused in the same way, with the same error, everywhere.
 * Each field is compiled once into a zod schema; conditions are evaluated on the earlier answers.
 */
import * as z from '@stratumiops/shared/zod';
import { evalCondition } from './condition.js';
import { type Field, type Form, isDate, isoDate } from './form.js';

export type ErrorCode =
  | 'required'
  | 'type'
  | 'min_length'
  | 'max_length'
  | 'pattern'
  | 'min'
  | 'max'
  | 'step'
  | 'option'
  | 'duplicate'
  | 'min_items'
  | 'max_items'
  | 'date'
  | 'unknown_field'
  | 'contract';

export interface FieldError {
  field: string;
  code: ErrorCode;
  params: Record<string, string | number>;
}

export type Answers = Record<string, unknown>;

export interface ValidationResult {
  /** The accepted answers of the active fields, in form order (empty optional answers left out). */
  values: Answers;
  errors: FieldError[];
  /** Answers given for fields whose `when` condition is false: left out of the values. */
  ignored: string[];
}

export interface EngineOptions {
  /** The clock behind `today` (tests pin it). */
  now?: () => Date;
}

interface Compiled {
  field: Field;
  schema: z.ZodType;
}

const EXPECTED: Record<Field['type'], string> = {
  text: 'string',
  password: 'string',
  editor: 'string',
  date: 'date',
  number: 'number',
  confirm: 'boolean',
  select: 'string',
  'multi-select': 'list',
  list: 'list',
};

export class Engine {
  private readonly compiled = new Map<string, Compiled>();
  private readonly now: () => Date;

  constructor(
    readonly form: Form,
    opts: EngineOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    for (const field of form.fields) this.compiled.set(field.id, { field, schema: this.compile(field) });
  }

  today(): string {
    return isoDate(this.now());
  }

  /** The default of a field, with `today` resolved; undefined when it has none. */
  defaultOf(field: Field): unknown {
    if (field.default === undefined) return undefined;
    if (field.type === 'date' && field.default === 'today') return this.today();
    return Array.isArray(field.default) ? [...field.default] : field.default;
  }

  /** Whether a field is asked, given the answers so far. */
  isActive(field: Field, answers: Answers): boolean {
    return !field.condition || evalCondition(field.condition, answers);
  }

  /** The fields asked for these answers, in order. */
  activeFields(answers: Answers): Field[] {
    return this.form.fields.filter((f) => this.isActive(f, answers));
  }

  /**
   * Checks one typed value of one field (the empty value too: required or not). Interactive backends
   * call it as each answer is given; `validate` calls it for every active field.
   */
  checkValue(field: Field, value: unknown): FieldError | undefined {
    if (isEmpty(value)) return field.required ? { field: field.id, code: 'required', params: {} } : undefined;
    const c = this.compiled.get(field.id);
    if (!c) return { field: field.id, code: 'unknown_field', params: {} };
    const r = c.schema.safeParse(value);
    if (r.success) return undefined;
    const err = toFieldError(field, r.error.issues[0] as z.core.$ZodIssue);
    // A date bound of `today` is named with the date it means.
    if (field.type === 'date' && err.params.limit === 'today') err.params.limit = `${this.today()} (today)`;
    return err;
  }

  /**
   * Validates a whole answer set. With `defaults`, a missing answer takes the field's default (the
   * non-interactive modes: answers files and --defaults); interactive backends have shown the default
   * already and pass what the person left.
   */
  validate(answers: Answers, opts: { defaults?: boolean } = {}): ValidationResult {
    const values: Answers = {};
    const errors: FieldError[] = [];
    const ignored: string[] = [];
    for (const field of this.form.fields) {
      const given = Object.hasOwn(answers, field.id);
      if (field.condition && !evalCondition(field.condition, values)) {
        if (given) ignored.push(field.id);
        continue;
      }
      let v = given ? answers[field.id] : undefined;
      if (v === undefined && opts.defaults) v = this.defaultOf(field);
      if (field.type === 'confirm') v = yesNo(v);
      const err = this.checkValue(field, v);
      if (err) errors.push(err);
      else if (!isEmpty(v)) values[field.id] = v;
    }
    for (const key of Object.keys(answers)) {
      if (!this.form.byId.has(key)) errors.push({ field: key, code: 'unknown_field', params: {} });
    }
    return { values, errors, ignored };
  }

  private compile(field: Field): z.ZodType {
    const v = field.validation;
    const str = () => {
      let s = z.string();
      if (v.min_length !== undefined) s = s.min(v.min_length);
      if (v.max_length !== undefined) s = s.max(v.max_length);
      if (v.pattern !== undefined) s = s.regex(new RegExp(v.pattern, 'u'));
      return s;
    };
    const items = <T extends z.ZodType>(item: T) => {
      let a = z.array(item);
      if (v.min_items !== undefined) a = a.min(v.min_items);
      if (v.max_items !== undefined) a = a.max(v.max_items);
      return a;
    };
    switch (field.type) {
      case 'text':
      case 'password':
      case 'editor':
        return str();
      case 'list':
        return items(str());
      case 'number': {
        let n = z.number();
        if (typeof v.min === 'number') n = n.min(v.min);
        if (typeof v.max === 'number') n = n.max(v.max);
        const step = v.step;
        if (step === undefined) return n;
        const base = typeof v.min === 'number' ? v.min : 0;
        // "a whole number" for step 1 from a whole number; "base plus a multiple" only when that differs.
        const whole = step === 1 && Number.isInteger(base) ? 'yes' : 'no';
        const counted = onStep(base, 0, step) ? 'no' : 'yes';
        return n.refine((x) => onStep(x, base, step), { params: { code: 'step', step, base, whole, counted } });
      }
      case 'confirm':
        return z.boolean();
      case 'select':
        return z.enum(field.options.map((o) => o.value) as [string, ...string[]]);
      case 'multi-select':
        return items(z.enum(field.options.map((o) => o.value) as [string, ...string[]])).refine(
          (xs) => new Set(xs).size === xs.length,
          { params: { code: 'duplicate' } },
        );
      case 'date': {
        const bound = (b: number | string | undefined) =>
          typeof b === 'string' ? () => (b === 'today' ? this.today() : b) : undefined;
        const lo = bound(v.min);
        const hi = bound(v.max);
        let d = z.string().refine(isDate, { params: { code: 'date' } });
        if (lo) d = d.refine((x) => x >= lo(), { params: { code: 'min', limit: String(v.min) } });
        if (hi) d = d.refine((x) => x <= hi(), { params: { code: 'max', limit: String(v.max) } });
        return d;
      }
    }
  }
}

const YES = new Set(['yes', 'y', 'true', 'on']);
const NO = new Set(['no', 'n', 'false', 'off']);

/** yes/no fields take what people write in answers files: "yes"/"no", "y"/"n", "true"/"false", "on"/"off". */
export function yesNo(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim().toLowerCase();
  return YES.has(t) ? true : NO.has(t) ? false : v;
}

/** No answer: undefined, null, an empty string or an empty list (a web page cannot tell them apart). */
export function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

function onStep(x: number, base: number, step: number): boolean {
  const q = (x - base) / step;
  return Math.abs(q - Math.round(q)) < 1e-9 * Math.max(1, Math.abs(q));
}

function toFieldError(field: Field, issue: z.core.$ZodIssue): FieldError {
  const id = field.id;
  const item: Record<string, number> = typeof issue.path[0] === 'number' ? { item: issue.path[0] + 1 } : {};
  switch (issue.code) {
    case 'invalid_type':
      return { field: id, code: 'type', params: { expected: item.item ? 'string' : EXPECTED[field.type], ...item } };
    case 'too_small': {
      const limit = Number(issue.minimum);
      const code = issue.origin === 'string' ? 'min_length' : issue.origin === 'array' ? 'min_items' : 'min';
      return { field: id, code, params: { limit, ...item } };
    }
    case 'too_big': {
      const limit = Number(issue.maximum);
      const code = issue.origin === 'string' ? 'max_length' : issue.origin === 'array' ? 'max_items' : 'max';
      return { field: id, code, params: { limit, ...item } };
    }
    case 'invalid_format':
      return { field: id, code: 'pattern', params: { pattern: field.validation.pattern ?? '', ...item } };
    case 'invalid_value':
      return {
        field: id,
        code: 'option',
        params: { options: field.options.map((o) => o.value).join(', '), ...item },
      };
    case 'custom': {
      const { code, ...params } = (issue.params ?? {}) as { code: ErrorCode } & Record<string, string | number>;
      return { field: id, code, params: { ...params, ...item } };
    }
    default:
      return { field: id, code: 'type', params: { expected: EXPECTED[field.type] } };
  }
}
