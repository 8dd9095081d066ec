import * as z from '@stratumiops/shared/zod';
import { invalid } from './errors.js';

/**
 * Field types of path declarations. Like Vault's framework they accept the loose forms
 * clients send (numbers as strings, durations as "1h" or seconds, lists as "a,b"), and a
 * value that cannot be read as the declared type is a 400. Each takes the field's meaning,
 * which path help shows (`svault path-help`, `GET /v1/<path>?help=1`); the type's own
 * description ("an integer") is what errors name.
 */
const meanings = new WeakMap<z.ZodType, string>();
function withMeaning<T extends z.ZodType>(schema: T, meaning: string | undefined): T {
  if (meaning) meanings.set(schema, meaning);
  return schema;
}
const intLike = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
export const fInt = (meaning?: string) => withMeaning(intLike.describe('an integer'), meaning);
export const fBool = (meaning?: string) =>
  withMeaning(
    z
      .union([
        z.boolean(),
        z.enum(['true', 'false', '1', '0', 't', 'f']).transform((s) => ['true', '1', 't'].includes(s)),
      ])
      .describe('a boolean'),
    meaning,
  );
export const fString = (meaning?: string) => withMeaning(z.string().describe('a string'), meaning);
export const fStringList = (meaning?: string) => withMeaning(stringList(), meaning);
const stringList = () =>
  z
    .union([
      z.array(z.string()),
      z.string().transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .describe('a list of strings');
export const fIntList = (meaning?: string) => withMeaning(intList(), meaning);
const intList = () =>
  z
    .union([
      z.array(intLike),
      z.string().transform((s, ctx) => {
        const parts = s.split(',').map((x) => x.trim());
        if (!parts.every((p) => /^\d+$/.test(p))) {
          ctx.addIssue({ code: 'custom', message: 'expected a list of integers' });
          return z.NEVER;
        }
        return parts.map(Number);
      }),
    ])
    .describe('a list of integers');
/**
 * Maps are checked, not copied: a copy made by assignment would turn a `__proto__` key (an
 * ordinary own key in parsed JSON) into a prototype change and lose it.
 */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const fMap = (meaning?: string) =>
  withMeaning(z.custom<Record<string, unknown>>(isPlainObject).describe('an object'), meaning);
export const fStringMap = (meaning?: string) =>
  withMeaning(
    z
      .custom<Record<string, string>>((v) => isPlainObject(v) && Object.values(v).every((x) => typeof x === 'string'))
      .describe('an object of strings'),
    meaning,
  );

/** `obj[key] = value` as an own property, whatever the key (`__proto__` included). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
/** Seconds, from an integer or a Go-style duration ("90s", "1h30m", "720h"). */
export const fDuration = (meaning?: string) => withMeaning(duration(), meaning);
const duration = () =>
  z
    .union([z.number().int().nonnegative(), z.string()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v;
      const secs = parseDuration(v);
      if (secs === undefined) {
        ctx.addIssue({ code: 'custom', message: `invalid duration "${v}"` });
        return z.NEVER;
      }
      return secs;
    })
    .describe('a duration');

const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds in a duration string (whole seconds, rounded down), or undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const secs = parseDurationSecs(text);
  return secs === undefined ? undefined : Math.floor(secs);
}

/** Milliseconds in a duration string ("250ms", "2s"; a bare number is seconds), or undefined. */
export function parseDurationMs(text: string): number | undefined {
  const secs = parseDurationSecs(text);
  return secs === undefined ? undefined : Math.round(secs * 1000);
}

function parseDurationSecs(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return 0;
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: the usual regex loop
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * (units[m[2] as string] ?? 0);
    consumed = re.lastIndex;
  }
  return consumed === s.length ? total : undefined;
}

/** "1h2m3s" for a number of seconds, as Vault prints durations. */
export function formatDuration(secs: number): string {
  if (secs <= 0) return '0s';
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}

export type FieldSchemas = Record<string, z.ZodType>;

/** A declared field as help shows it: its name, its type ("integer") and what it means. */
export interface FieldDoc {
  name: string;
  type: string;
  description: string;
}

export function describeFields(schemas: FieldSchemas): FieldDoc[] {
  return Object.entries(schemas).map(([name, schema]) => ({
    name,
    type: (schema.description ?? 'a value').replace(/^(an?) /, ''),
    description: meanings.get(schema) ?? '',
  }));
}

/** The body fields a path does not declare (Vault ignores them, and says so in a warning). */
export function unknownFields(schemas: FieldSchemas, data: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name in data) if (!Object.hasOwn(schemas, name)) out.push(name);
  return out.sort();
}

/** Known fields parsed; unknown ones dropped (Vault ignores them); a bad known field is a 400. */
export function parseFields(schemas: FieldSchemas, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in schemas) {
    const schema = schemas[name] as z.ZodType;
    const raw = data[name];
    if (raw === undefined || raw === null) continue;
    const r = schema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      const why = issue?.code === 'custom' ? issue.message : `expected ${schema.description ?? 'another type'}`;
      throw invalid(`error converting input for field "${name}": ${why}`);
    }
    out[name] = r.data;
  }
  return out;
}
