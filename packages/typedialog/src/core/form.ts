/**
 * The form model: the TOML form format (`[form]`, `[[sections]]`, `[[sections.fields]]`, `[output]`),
 * checked by zod and then by rules that need the whole form (unique ids, defaults of the right type, `when`
 * conditions that only read earlier fields). Every problem carries the TOML line it comes from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { StratumError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import { parse as parseToml, TomlError } from 'smol-toml';
import { type Condition, ConditionError, conditionFields, parseCondition } from './condition.js';
import { refuseFolder } from './files.js';
import { TomlLines } from './toml-lines.js';

export const FIELD_TYPES = [
  'text',
  'password',
  'number',
  'confirm',
  'select',
  'multi-select',
  'date',
  'editor',
  'list',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const OUTPUT_FORMATS = ['json', 'yaml', 'toml', 'nickel'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const ID = /^[A-Za-z][A-Za-z0-9_]*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const idSchema = z.string().regex(ID, { message: 'must start with a letter and use letters, digits and _' });

const validationSchema = z.strictObject({
  min_length: z.number().int().nonnegative().optional(),
  max_length: z.number().int().positive().optional(),
  pattern: z.string().optional(),
  message: z.string().optional(),
  min: z.union([z.number(), z.string()]).optional(),
  max: z.union([z.number(), z.string()]).optional(),
  step: z.number().positive().optional(),
  min_items: z.number().int().nonnegative().optional(),
  max_items: z.number().int().positive().optional(),
});

const optionSchema = z.union([
  z.string(),
  z.strictObject({ value: z.string(), label: z.string().optional(), help: z.string().optional() }),
]);

const fieldSchema = z.strictObject({
  id: idSchema,
  type: z.string(),
  label: z.string().optional(),
  required: z.boolean().default(false),
  default: z.unknown().optional(),
  placeholder: z.string().optional(),
  help: z.string().optional(),
  validation: validationSchema.default({}),
  options: z.array(optionSchema).optional(),
  display_mode: z.enum(['list', 'grid']).optional(),
  when: z.string().optional(),
});

const fileSchema = z.strictObject({
  form: z.strictObject({
    id: idSchema,
    version: z.string().default('1.0.0'),
    title: z.string(),
    description: z.string().optional(),
    locale: z.string().default('en'),
  }),
  sections: z
    .array(
      z.strictObject({
        id: idSchema,
        title: z.string().optional(),
        description: z.string().optional(),
        // Each field is checked on its own below, so that one bad field does not hide the others' problems.
        fields: z.array(z.record(z.string(), z.unknown())).min(1, { message: 'a section needs at least one field' }),
      }),
    )
    .min(1, { message: 'a form needs at least one [[sections]] with fields' }),
  output: z
    .strictObject({
      format: z.enum(OUTPUT_FORMATS).default('json'),
      validation: z.string().optional(),
    })
    .default({ format: 'json' }),
});

export interface Option {
  value: string;
  label: string;
  help?: string;
}

export interface Validation {
  min_length?: number;
  max_length?: number;
  pattern?: string;
  message?: string;
  min?: number | string;
  max?: number | string;
  step?: number;
  min_items?: number;
  max_items?: number;
}

export interface Field {
  id: string;
  type: FieldType;
  label: string;
  required: boolean;
  default?: unknown;
  placeholder?: string;
  help?: string;
  validation: Validation;
  options: Option[];
  display_mode: 'list' | 'grid';
  when?: string;
  /** The parsed `when`. */
  condition?: Condition;
  section: string;
  /** Line of the field's `[[sections.fields]]` header in the form file. */
  line: number;
}

export interface Section {
  id: string;
  title: string;
  description?: string;
  fields: Field[];
  line: number;
}

export interface Form {
  id: string;
  version: string;
  title: string;
  description?: string;
  /** Language of the texts in the TOML file itself. */
  locale: string;
  sections: Section[];
  /** Every field in form order. */
  fields: Field[];
  byId: Map<string, Field>;
  output: { format: OutputFormat; validation?: string; contractPath?: string };
  /** Absolute path of the form file, or '<inline>'. */
  file: string;
  dir: string;
}

export interface FormIssue {
  line: number;
  /** Data path, e.g. sections[0].fields[2].type. */
  path: string;
  field?: string;
  message: string;
}

const ALLOWED_RULES: Record<FieldType, (keyof Validation)[]> = {
  text: ['min_length', 'max_length', 'pattern', 'message'],
  password: ['min_length', 'max_length', 'pattern', 'message'],
  editor: ['min_length', 'max_length', 'pattern', 'message'],
  number: ['min', 'max', 'step'],
  date: ['min', 'max'],
  confirm: [],
  select: [],
  'multi-select': ['min_items', 'max_items'],
  list: ['min_items', 'max_items', 'min_length', 'max_length', 'pattern', 'message'],
};

function displayPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

/** Today's date (local time) as YYYY-MM-DD. */
export function isoDate(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

/** A real calendar date in YYYY-MM-DD. */
export function isDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

export function formError(file: string, issues: FormIssue[]): StratumError {
  const name = file === '<inline>' ? 'the form' : file;
  issues.sort((a, b) => (a.line || Number.MAX_SAFE_INTEGER) - (b.line || Number.MAX_SAFE_INTEGER));
  const lines = issues.map((i) => `  ${name}${i.line ? `:${i.line}` : ''}: ${i.message}`);
  const n = issues.length;
  return new StratumError('validation', `${name} is not a valid form (${n} problem${n === 1 ? '' : 's'})`, {
    hint: "fix the lines listed; 'typedialog validate FORM' checks a form file",
    details: { file, issues },
    display: [`typedialog: ${name} is not a valid form (${n} problem${n === 1 ? '' : 's'})`, ...lines].join('\n'),
  });
}

/** Reads and checks a form file; throws a StratumError (exit 3) listing every problem with its line. */
export function loadForm(path: string): Form {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new StratumError('notFound', `form file ${path} does not exist`, {
      hint: "'typedialog form list DIR' lists the forms in a folder",
    });
  }
  refuseFolder(file, `${path} is a folder, not a form file ('typedialog form list ${path}' checks every form in it)`);
  return parseForm(readFileSync(file, 'utf8'), file);
}

/** Parses form text; `file` anchors `nickel://` paths and names the file in errors. */
export function parseForm(text: string, file = '<inline>'): Form {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const msg = e.message.split('\n')[0] ?? 'invalid TOML';
      throw formError(file, [{ line: e.line, path: '', message: `TOML syntax: ${msg} (column ${e.column})` }]);
    }
    throw e;
  }
  const lines = new TomlLines(text);
  const issues: FormIssue[] = [];
  const fieldAt = (path: readonly (string | number)[]): string | undefined => {
    if (path[0] !== 'sections' || path[2] !== 'fields' || typeof path[3] !== 'number') return undefined;
    const f = (raw as { sections?: { fields?: { id?: unknown }[] }[] }).sections?.[path[1] as number]?.fields?.[
      path[3]
    ];
    return typeof f?.id === 'string' ? f.id : undefined;
  };
  /** `shown` is how much of the path the message names (an unknown key names its table, not itself). */
  const add = (path: readonly (string | number)[], message: string, shown = path.length) => {
    const field = fieldAt(path);
    const named = path.slice(0, shown);
    const where = field
      ? `field '${field}'${named.length > 4 ? ` ${displayPath(named.slice(4))}` : ''}`
      : displayPath(named) || 'the form';
    issues.push({
      line: lines.lineOf(path),
      path: displayPath(path),
      ...(field ? { field } : {}),
      message: `${where}: ${message}`,
    });
  };
  const report = (issue: z.core.$ZodIssue, prefix: (string | number)[] = []) => {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) add([...path, k], `unknown key '${k}'`, path.length);
    } else add(path, zodMessage(issue));
  };

  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report(issue);
    throw formError(file, issues);
  }
  const data = parsed.data;
  const dir = file === '<inline>' ? process.cwd() : dirname(file);
  const sections: Section[] = [];
  const fields: Field[] = [];
  const byId = new Map<string, Field>();
  const sectionIds = new Set<string>();

  data.sections.forEach((s, si) => {
    if (sectionIds.has(s.id)) add(['sections', si, 'id'], `section id '${s.id}' is used twice`);
    sectionIds.add(s.id);
    const section: Section = {
      id: s.id,
      title: s.title ?? s.id,
      ...(s.description ? { description: s.description } : {}),
      fields: [],
      line: lines.lineOf(['sections', si]),
    };
    s.fields.forEach((rawField, fi) => {
      const at = (...rest: (string | number)[]) => ['sections', si, 'fields', fi, ...rest];
      let fp = fieldSchema.safeParse(rawField);
      if (!fp.success) {
        for (const issue of fp.error.issues) report(issue, at());
        // Unknown keys alone do not stop the other checks of the field.
        const unknown = fp.error.issues.flatMap((i) =>
          i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : [],
        );
        if (unknown.length !== fp.error.issues.length) return;
        fp = fieldSchema.safeParse(Object.fromEntries(Object.entries(rawField).filter(([k]) => !unknown.includes(k))));
        if (!fp.success) return;
      }
      const f = fp.data;
      if (!(FIELD_TYPES as readonly string[]).includes(f.type)) {
        add(at('type'), `unknown field type '${f.type}' (expected one of ${FIELD_TYPES.join(', ')})`);
        return;
      }
      const type = f.type as FieldType;
      if (byId.has(f.id)) add(at('id'), `field id '${f.id}' is used twice`);
      const options: Option[] = (f.options ?? []).map((o) =>
        typeof o === 'string' ? { value: o, label: o } : { ...o, label: o.label ?? o.value },
      );
      const field: Field = {
        id: f.id,
        type,
        label: f.label ?? f.id,
        required: f.required,
        ...(f.default !== undefined ? { default: f.default } : {}),
        ...(f.placeholder !== undefined ? { placeholder: f.placeholder } : {}),
        ...(f.help !== undefined ? { help: f.help } : {}),
        validation: f.validation,
        options,
        display_mode: f.display_mode ?? 'list',
        ...(f.when !== undefined ? { when: f.when } : {}),
        section: s.id,
        line: lines.lineOf(at()),
      };
      checkField(field, f.options !== undefined, f.display_mode !== undefined, byId, (p, m) => add(at(...p), m));
      byId.set(field.id, field);
      section.fields.push(field);
      fields.push(field);
    });
    sections.push(section);
  });

  const output: Form['output'] = { format: data.output.format };
  if (data.output.validation !== undefined) {
    output.validation = data.output.validation;
    const m = /^nickel:\/\/(.+)$/.exec(data.output.validation);
    if (!m) add(['output', 'validation'], `expected nickel://path/to/contract.ncl, got '${data.output.validation}'`);
    else {
      output.contractPath = resolve(dir, m[1] as string);
      if (file !== '<inline>' && !existsSync(output.contractPath)) {
        add(['output', 'validation'], `contract file ${m[1]} not found (relative to ${dir})`);
      }
    }
  }
  if (issues.length > 0) throw formError(file, issues);
  return {
    id: data.form.id,
    version: data.form.version,
    title: data.form.title,
    ...(data.form.description ? { description: data.form.description } : {}),
    locale: data.form.locale,
    sections,
    fields,
    byId,
    output,
    file,
    dir,
  };
}

function zodMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is missing' : `expected ${issue.expected}, got ${typeName(issue.input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a table';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Rules that zod's shape cannot express: per-type keys, defaults, options, conditions, regexes. */
function checkField(
  f: Field,
  hasOptions: boolean,
  hasDisplayMode: boolean,
  earlier: Map<string, Field>,
  add: (path: (string | number)[], message: string) => void,
): void {
  const v = f.validation;
  for (const key of Object.keys(v) as (keyof Validation)[]) {
    if (!ALLOWED_RULES[f.type].includes(key)) {
      const types = FIELD_TYPES.filter((t) => ALLOWED_RULES[t].includes(key));
      add(['validation', key], `'${key}' does not apply to ${f.type} fields (only to ${types.join(', ')})`);
    }
  }
  const choice = f.type === 'select' || f.type === 'multi-select';
  if (choice && f.options.length === 0) add(['options'], `a ${f.type} field needs options`);
  if (!choice && hasOptions) add(['options'], `options only apply to select and multi-select fields`);
  if (hasDisplayMode && f.type !== 'multi-select') add(['display_mode'], 'display_mode only applies to multi-select');
  const seen = new Set<string>();
  f.options.forEach((o, i) => {
    if (seen.has(o.value)) add(['options', i], `option value '${o.value}' is used twice`);
    seen.add(o.value);
  });
  if (v.pattern !== undefined) {
    try {
      new RegExp(v.pattern, 'u');
    } catch (e) {
      add(
        ['validation', 'pattern'],
        (e as Error).message.replace(/^Invalid regular expression: /, 'invalid regular expression '),
      );
    }
  }
  if (v.message !== undefined && v.pattern === undefined) add(['validation', 'message'], 'message needs a pattern');
  const pair = (lo: keyof Validation, hi: keyof Validation) => {
    const a = v[lo];
    const b = v[hi];
    if (a !== undefined && b !== undefined && a > b)
      add(['validation', lo], `${lo} (${a}) is greater than ${hi} (${b})`);
  };
  pair('min_length', 'max_length');
  pair('min_items', 'max_items');
  pair('min', 'max');
  if (f.type === 'number') {
    for (const k of ['min', 'max'] as const) {
      if (v[k] !== undefined && typeof v[k] !== 'number') add(['validation', k], `${k} must be a number`);
    }
  }
  if (f.type === 'date') {
    for (const k of ['min', 'max'] as const) {
      const d = v[k];
      if (d !== undefined && (typeof d !== 'string' || (d !== 'today' && !isDate(d)))) {
        add(['validation', k], `${k} must be a date (YYYY-MM-DD) or "today"`);
      }
    }
  }
  if (f.default !== undefined) {
    const problem = defaultProblem(f);
    if (problem) add(['default'], problem);
  }
  if (f.when !== undefined) {
    try {
      const c = parseCondition(f.when);
      for (const name of conditionFields(c)) {
        if (name === f.id) add(['when'], `the condition reads this field itself ('${name}')`);
        else if (!earlier.has(name)) add(['when'], `the condition reads '${name}', which is not an earlier field`);
      }
      f.condition = c;
    } catch (e) {
      if (!(e instanceof ConditionError)) throw e;
      add(['when'], `invalid condition at column ${e.column}: ${e.message}`);
    }
  }
}

function defaultProblem(f: Field): string | undefined {
  const d = f.default;
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
  switch (f.type) {
    case 'password':
      return 'a password field cannot have a default (it would be stored in the form file)';
    case 'text':
    case 'editor':
      return typeof d === 'string' ? undefined : 'default must be a string';
    case 'date':
      return typeof d === 'string' && (d === 'today' || isDate(d))
        ? undefined
        : 'default must be a date (YYYY-MM-DD) or "today"';
    case 'number':
      return typeof d === 'number' ? undefined : 'default must be a number';
    case 'confirm':
      return typeof d === 'boolean' ? undefined : 'default must be true or false';
    case 'select':
      if (typeof d !== 'string') return 'default must be a string (one of the option values)';
      return f.options.some((o) => o.value === d) ? undefined : `default '${d}' is not one of the option values`;
    case 'multi-select': {
      if (!strings(d)) return 'default must be an array of option values';
      const bad = d.find((x) => !f.options.some((o) => o.value === x));
      return bad === undefined ? undefined : `default '${bad}' is not one of the option values`;
    }
    case 'list':
      return strings(d) ? undefined : 'default must be an array of strings';
  }
}

export function formName(form: Form): string {
  return form.file === '<inline>' ? form.id : basename(form.file);
}
