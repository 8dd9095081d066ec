import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { notFoundError, validationError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import { parse as parseToml } from 'smol-toml';
import { ALERT_SEVERITIES } from './bus.js';
import { describeZodError, PRIORITIES, roleSchema, taskTypeSchema } from './model.js';
import { lookupPath as lookup } from './vars.js';

/**
 * Pipelines: steps by role, each a task run by the agents like any other, passing outputs on. Defined as TOML
 * files (`.vapora/pipelines/<name>.toml`):
 *
 *   description = "Ship a service"
 *   [inputs.service]
 *   required = true
 *   [[steps]]
 *   id = "design"
 *   role = "architect"
 *   title = "Design {{inputs.service}}"
 *   [[steps]]
 *   id = "build"                       # depends on the previous step unless depends_on says otherwise
 *   role = "developer"
 *   payload = { spec = "{{steps.design.output}}" }
 *   retries = 1
 *   [steps.rollback]                   # run, in reverse order, for completed steps when a later one fails
 *   role = "devops"
 *   title = "Undo the build of {{inputs.service}}"
 *
 * `{{steps.<id>.output}}` is the step's output; when it is JSON, `{{steps.<id>.output.field}}` reaches into it.
 *
 * An alert can start a run (see alerts.ts):
 *
 *   [[triggers]]
 *   source = "monitor"                  # who raised it: an agent role, "budget", or a name given to `alert raise`
 *   severity = "error"                  # the least severe alert it reacts to (info, warning, error, critical)
 *   project = "incidents"               # the run's project (name or id)
 *   match = { service = "postgresql" }  # alert metadata values that must be equal
 *   inputs = { service = "{{alert.metadata.service}}" }   # {{alert.id|source|severity|message|metadata.<k>}}
 */
const ID = /^[a-z][a-z0-9_-]{0,62}$/;

const taskSpec = {
  role: roleSchema,
  /** Task type (routing rules and expertise key on it); default: the step id. */
  type: taskTypeSchema.optional(),
  title: z.string().trim().min(1).max(500).optional(),
  description: z.string().max(100_000).default(''),
  priority: z.enum(PRIORITIES).default('normal'),
  payload: z.record(z.string(), z.unknown()).default({}),
};

const stepSchema = z.strictObject({
  id: z.string().regex(ID, 'step id: lowercase letters, digits, _ - (up to 63)'),
  ...taskSpec,
  /** Steps that must be done first; default: the step before (none for the first). [] runs it at once. */
  depends_on: z.array(z.string()).optional(),
  /** A person approves before this step runs. */
  approval: z.boolean().default(false),
  /** Further tries when the step's task fails. */
  retries: z.number().int().min(0).max(10).default(0),
  rollback: z.strictObject(taskSpec).optional(),
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const triggerSchema = z.strictObject({
  source: z.string().trim().min(1).max(100),
  severity: z.enum(ALERT_SEVERITIES).default('warning'),
  project: z.string().min(1),
  match: z.record(z.string(), scalar).default({}),
  inputs: z.record(z.string(), scalar).default({}),
});
export type AlertTrigger = z.infer<typeof triggerSchema>;

const inputSchema = z.strictObject({
  description: z.string().default(''),
  required: z.boolean().default(false),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

export const pipelineSchema = z.strictObject({
  name: z.string().regex(ID, 'pipeline name: lowercase letters, digits, _ -').optional(),
  description: z.string().default(''),
  inputs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'input name'), inputSchema).default({}),
  steps: z.array(stepSchema).min(1, 'a pipeline needs at least one step').max(100),
  triggers: z.array(triggerSchema).max(20).default([]),
});

export type StepDef = z.infer<typeof stepSchema> & { depends_on: string[] };
export type PipelineDef = Omit<z.infer<typeof pipelineSchema>, 'steps' | 'name'> & { name: string; steps: StepDef[] };

/** Validates a definition: ids unique, dependencies known and acyclic, placeholders naming known inputs and steps. */
export function checkPipeline(raw: unknown, name: string, where = name): PipelineDef {
  const r = pipelineSchema.safeParse(raw);
  if (!r.success) throw validationError(`pipeline ${where}: ${describeZodError(r.error)}`);
  const p = r.data;
  const ids = new Set<string>();
  const steps: StepDef[] = p.steps.map((s, i) => {
    if (ids.has(s.id)) throw validationError(`pipeline ${where}: step id '${s.id}' appears twice`);
    ids.add(s.id);
    return { ...s, depends_on: s.depends_on ?? (i > 0 ? [(p.steps[i - 1] as { id: string }).id] : []) };
  });
  for (const s of steps) {
    for (const d of s.depends_on) {
      if (!ids.has(d))
        throw validationError(`pipeline ${where}: step '${s.id}' depends on '${d}', which is not a step`);
    }
  }
  // Kahn's algorithm: whatever cannot be ordered is in a cycle.
  const order = topoOrder(steps);
  if (order.length < steps.length) {
    const stuck = steps.filter((s) => !order.includes(s.id)).map((s) => s.id);
    throw validationError(`pipeline ${where}: steps ${stuck.join(', ')} depend on each other in a cycle`);
  }
  const known = (path: string, step: StepDef | undefined): string | undefined => {
    const [head, a, b] = path.split('.');
    if (head === 'inputs') return a && a in p.inputs ? undefined : `unknown input '${a}'`;
    if (head === 'run' || head === 'project') return undefined;
    if (head === 'steps') {
      if (!a || !ids.has(a)) return `unknown step '${a}'`;
      if (b !== 'output') return `only steps.${a}.output can be used`;
      if (step && !ancestors(steps, step.id).has(a))
        return `step '${step.id}' does not (even indirectly) depend on '${a}'`;
      return undefined;
    }
    return `unknown variable '${path}' (inputs.*, steps.<id>.output, run.id, project)`;
  };
  for (const s of steps) {
    for (const [label, spec] of [
      ['step', s],
      ['rollback', s.rollback],
    ] as const) {
      if (!spec) continue;
      for (const path of placeholders([spec.title ?? '', spec.description, spec.payload])) {
        const problem = known(path, label === 'step' ? s : undefined);
        if (problem) throw validationError(`pipeline ${where}: ${label} of '${s.id}': {{${path}}}: ${problem}`);
      }
    }
  }
  const ALERT_FIELDS = ['id', 'source', 'severity', 'message'];
  p.triggers.forEach((t, i) => {
    for (const k of Object.keys(t.inputs)) {
      if (!(k in p.inputs))
        throw validationError(`pipeline ${where}: triggers[${i}] sets '${k}', which is not an input`);
    }
    for (const path of placeholders(t.inputs)) {
      const [head, field, key] = path.split('.');
      const ok = head === 'alert' && (ALERT_FIELDS.includes(field ?? '') || (field === 'metadata' && key));
      if (!ok)
        throw validationError(
          `pipeline ${where}: triggers[${i}]: {{${path}}}: a trigger's inputs use alert.id, alert.source, alert.severity, alert.message or alert.metadata.<key>`,
        );
    }
  });
  return { ...p, name: p.name ?? name, steps };
}

function topoOrder(steps: StepDef[]): string[] {
  const indeg = new Map(steps.map((s) => [s.id, s.depends_on.length]));
  const ready = steps.filter((s) => s.depends_on.length === 0).map((s) => s.id);
  const order: string[] = [];
  while (ready.length) {
    const id = ready.shift() as string;
    order.push(id);
    for (const s of steps) {
      if (!s.depends_on.includes(id)) continue;
      const n = (indeg.get(s.id) ?? 0) - 1;
      indeg.set(s.id, n);
      if (n === 0) ready.push(s.id);
    }
  }
  return order;
}

function ancestors(steps: StepDef[], id: string): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const out = new Set<string>();
  const walk = (x: string) => {
    for (const d of byId.get(x)?.depends_on ?? []) {
      if (!out.has(d)) {
        out.add(d);
        walk(d);
      }
    }
  };
  walk(id);
  return out;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

function placeholders(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') for (const m of v.matchAll(PLACEHOLDER)) out.push(m[1] as string);
  else if (Array.isArray(v)) for (const x of v) placeholders(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) placeholders(x, out);
  return out;
}

/**
 * Fills `{{…}}` from the run's values. A string that is exactly one placeholder takes the value itself (an
 * object stays an object); inside text, objects are written as JSON. Values never become code here: they go into
 * a task's title, description and payload, and an exec agent receives payload values as single arguments.
 */
export function render(v: unknown, vars: Record<string, unknown>): unknown {
  if (typeof v === 'string') {
    const whole = /^\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}$/.exec(v);
    if (whole) return lookup(vars, whole[1] as string) ?? '';
    return v.replace(PLACEHOLDER, (_m, path: string) => {
      const x = lookup(vars, path);
      return x === undefined || x === null ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x);
    });
  }
  if (Array.isArray(v)) return v.map((x) => render(x, vars));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, render(x, vars)]));
  return v;
}

/** A step's output for later steps: its text, or the JSON value when the text is JSON. */
export function outputValue(text: unknown): unknown {
  if (typeof text !== 'string') return text ?? '';
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t);
    } catch {}
  }
  return t;
}

/** The run's inputs from `--input k=v`: required ones present, defaults filled, unknown ones refused. */
export function resolveInputs(def: PipelineDef, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(given)) {
    if (!(k in def.inputs)) {
      const names = Object.keys(def.inputs);
      throw validationError(
        `pipeline ${def.name} has no input '${k}'${names.length ? ` (inputs: ${names.join(', ')})` : ' (it takes none)'}`,
      );
    }
  }
  for (const [k, spec] of Object.entries(def.inputs)) {
    const v = given[k] ?? spec.default;
    if (v === undefined && spec.required) {
      throw validationError(`pipeline ${def.name} needs the input '${k}'`, { hint: `pass --input ${k}=<value>` });
    }
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The definitions in a folder (`<name>.toml`), each checked; a broken file is an error naming it. */
export class PipelineLibrary {
  constructor(readonly dir: string | undefined) {}

  names(): string[] {
    if (!this.dir) return [];
    try {
      return readdirSync(this.dir)
        .filter((f) => f.endsWith('.toml'))
        .map((f) => basename(f, '.toml'))
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  load(name: string): PipelineDef {
    if (!ID.test(name)) throw validationError(`'${name}' is not a pipeline name`);
    const file = this.dir ? join(this.dir, `${name}.toml`) : undefined;
    let text: string;
    try {
      if (!file) throw Object.assign(new Error('no folder'), { code: 'ENOENT' });
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const known = this.names();
      throw notFoundError(`no pipeline '${name}'${this.dir ? ` in ${this.dir}` : ''}`, {
        hint: known.length ? `pipelines: ${known.join(', ')}` : `add ${this.dir ?? '.vapora/pipelines'}/${name}.toml`,
      });
    }
    let raw: unknown;
    try {
      raw = parseToml(text);
    } catch (e) {
      throw validationError(`${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    return checkPipeline(raw, name, file);
  }

  all(): { name: string; def?: PipelineDef; error?: string }[] {
    return this.names().map((name) => {
      try {
        return { name, def: this.load(name) };
      } catch (e) {
        return { name, error: (e as Error).message };
      }
    });
  }
}
