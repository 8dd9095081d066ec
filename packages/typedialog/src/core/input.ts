/**
 * Typed text → a value of the field's type. The cli (piped lines and prompts), the tui and the web page
 * all read text; they turn it into a value here and hand the value to the engine, exactly as an answers
 * file's value would be. Nothing is refused here that the engine would refuse differently: text that does
 * not fit the type becomes a value the engine reports (e.g. an unknown option stays a string).
 */
import { type Engine, type FieldError, isEmpty } from './engine.js';
import type { Field } from './form.js';

export type Parsed = { ok: true; value: unknown } | { ok: false; error: FieldError };

const YES = new Set(['y', 'yes', 'true', '1', 'on', 's', 'si', 'sí']);
const NO = new Set(['n', 'no', 'false', '0', 'off']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** One choice by value, then label (any case), then 1-based position. */
function choice(field: Field, text: string): string {
  const t = text.trim();
  if (field.options.some((o) => o.value === t)) return t;
  const lower = t.toLowerCase();
  const byLabel = field.options.find((o) => o.label.toLowerCase() === lower || o.value.toLowerCase() === lower);
  if (byLabel) return byLabel.value;
  if (/^\d+$/.test(t)) {
    const o = field.options[Number(t) - 1];
    if (o) return o.value;
  }
  return t;
}

/** Items of a list or multi-select typed on one line (commas) or several (one per line). */
export function splitItems(text: string): string[] {
  return text
    .split(text.includes('\n') ? /\r?\n/ : ',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The value for a field from typed text. Empty text means "no answer" (undefined); the caller decides
 * whether that takes the default (a prompt's Enter) or stays empty.
 */
export function parseText(engine: Engine, field: Field, text: string): Parsed {
  const raw = field.type === 'password' || field.type === 'editor' ? text : text.trim();
  if (raw === '') return { ok: true, value: undefined };
  switch (field.type) {
    case 'number':
      return NUMBER.test(raw)
        ? { ok: true, value: Number(raw) }
        : { ok: false, error: { field: field.id, code: 'type', params: { expected: 'number' } } };
    case 'confirm': {
      const l = raw.toLowerCase();
      if (YES.has(l)) return { ok: true, value: true };
      if (NO.has(l)) return { ok: true, value: false };
      return { ok: false, error: { field: field.id, code: 'type', params: { expected: 'boolean' } } };
    }
    case 'select':
      return { ok: true, value: choice(field, raw) };
    case 'multi-select':
      return { ok: true, value: splitItems(raw).map((t) => choice(field, t)) };
    case 'list':
      return { ok: true, value: splitItems(raw) };
    case 'date':
      return { ok: true, value: raw.toLowerCase() === 'today' ? engine.today() : raw };
    default:
      return { ok: true, value: raw };
  }
}

/** Text for a value, as a prompt shows it prefilled (the inverse of parseText). */
export function valueText(field: Field, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(field.type === 'list' || field.type === 'multi-select' ? ', ' : ',');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  // A draft of the wrong shape (an object from a model) shows as written, not as [object Object].
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Parses then checks: what a backend calls when a person submits one answer. Empty text takes the default
 * when `useDefault` (pressing Enter on a prefilled prompt); the result is checked by the engine.
 */
export function answerFromText(
  engine: Engine,
  field: Field,
  text: string,
  useDefault = false,
): { value: unknown; error?: FieldError } {
  const p = parseText(engine, field, text);
  if (!p.ok) return { value: undefined, error: p.error };
  const value = p.value === undefined && useDefault ? engine.defaultOf(field) : p.value;
  const error = engine.checkValue(field, value);
  return error ? { value, error } : { value };
}

/**
 * Answers from a set of texts keyed by field id (a web form post): every active field in order, parsed
 * and checked; an absent text is an empty answer. Lists may come as several texts (checkboxes).
 */
export function answersFromTexts(
  engine: Engine,
  texts: (field: Field) => string | string[] | undefined,
): { values: Record<string, unknown>; errors: FieldError[] } {
  const values: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const field of engine.form.fields) {
    if (!engine.isActive(field, values)) continue;
    const t = texts(field);
    const text = Array.isArray(t) ? t.map((x) => x.replace(/[\r\n]+/g, ' ')).join('\n') : (t ?? '');
    const r = answerFromText(engine, field, text);
    if (r.error) errors.push(r.error);
    else if (!isEmpty(r.value)) values[field.id] = r.value;
  }
  return { values, errors };
}
