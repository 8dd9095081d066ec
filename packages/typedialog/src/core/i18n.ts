/**
 * i18n with Fluent. Two sources of messages per locale:
 * - the tool's own (prompts, buttons, validation errors): packages/typedialog/locales/<locale>/typedialog.ftl;
 * - the form's (title, labels, help, options): <form folder>/locales/<locale>/<form id>.ftl, with ids
 *   `form-title`, `section-<id>`, `field-<id>` (attributes .help .placeholder .message) and
 *   `option-<field>-<value>`. The TOML text is the form's own language and the fallback for anything missing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FluentBundle, FluentResource } from '@fluent/bundle';
import { usageError } from '@stratumiops/shared/errors';
import type { FieldError } from './engine.js';
import type { Field, Form, Option, Section } from './form.js';

export const TOOL_LOCALES_DIR = fileURLToPath(new URL('../../locales/', import.meta.url));
export const DEFAULT_LOCALE = 'en';

/** `es_ES.UTF-8` → `es-ES`; `C`/`POSIX` → undefined. */
export function normalizeLocale(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const base = raw.split(/[.@]/)[0]?.replace(/_/g, '-') ?? '';
  if (base === '' || base === 'C' || base === 'POSIX') return undefined;
  return base;
}

function dirsIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

export function toolLocales(): string[] {
  return dirsIn(TOOL_LOCALES_DIR).filter((l) => existsSync(join(TOOL_LOCALES_DIR, l, 'typedialog.ftl')));
}

/** The locales a form has translations for (folders of <form dir>/locales with a <form id>.ftl). */
export function formLocales(form: Form): string[] {
  const dir = join(form.dir, 'locales');
  return dirsIn(dir).filter((l) => existsSync(join(dir, l, `${form.id}.ftl`)));
}

/** Best match of `wanted` among `available`: exact, then same language, else undefined. */
export function negotiate(wanted: string, available: string[]): string | undefined {
  const w = wanted.toLowerCase();
  const exact = available.find((a) => a.toLowerCase() === w);
  if (exact) return exact;
  const lang = w.split('-')[0];
  return (
    available.find((a) => a.toLowerCase() === lang) ?? available.find((a) => a.toLowerCase().split('-')[0] === lang)
  );
}

/**
 * Picks the locale: --locale, then the configured one, then LC_ALL / LC_MESSAGES / LANG, then English.
 * An explicit --locale that matches nothing is a usage error; an environment that matches nothing is not.
 */
export function chooseLocale(
  flag: string | undefined,
  configured: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  extra: string[] = [],
): string {
  const available = [...new Set([...toolLocales(), ...extra])];
  if (flag) {
    const got = negotiate(normalizeLocale(flag) ?? flag, available);
    if (!got) throw usageError(`no messages for locale '${flag}'`, { hint: `available: ${available.join(', ')}` });
    return got;
  }
  for (const raw of [configured, env.LC_ALL, env.LC_MESSAGES, env.LANG]) {
    const n = normalizeLocale(raw);
    if (!n) continue;
    const got = negotiate(n, available);
    if (got) return got;
  }
  return DEFAULT_LOCALE;
}

function bundle(locale: string, file: string): { bundle: FluentBundle; errors: string[] } | undefined {
  if (!existsSync(file)) return undefined;
  const b = new FluentBundle(locale, { useIsolating: false });
  const errors = b.addResource(new FluentResource(readFileSync(file, 'utf8'))).map((e) => e.message);
  return { bundle: b, errors };
}

/** Message ids may only hold letters, digits, `_` and `-`. */
export function optionKey(field: string, value: string): string {
  return `option-${field}-${value.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export class Messages {
  private readonly tool: FluentBundle[] = [];
  private readonly forms: FluentBundle[] = [];
  /** Parse errors of the .ftl files that were read (the bundles keep what parsed). */
  readonly problems: string[] = [];

  constructor(
    readonly locale: string,
    form?: Form,
  ) {
    const chain = locale === DEFAULT_LOCALE ? [locale] : [locale, DEFAULT_LOCALE];
    for (const l of chain) {
      const file = join(TOOL_LOCALES_DIR, l, 'typedialog.ftl');
      const b = bundle(l, file);
      if (b) {
        this.tool.push(b.bundle);
        this.problems.push(...b.errors.map((e) => `${file}: ${e}`));
      }
    }
    if (form) {
      const match = negotiate(locale, formLocales(form));
      // The TOML text is in form.locale: translations apply only when another language is asked for.
      if (match && negotiate(locale, [form.locale]) === undefined) {
        const file = join(form.dir, 'locales', match, `${form.id}.ftl`);
        const b = bundle(match, file);
        if (b) {
          this.forms.push(b.bundle);
          this.problems.push(...b.errors.map((e) => `${file}: ${e}`));
        }
      }
    }
  }

  private format(bundles: FluentBundle[], id: string, attr?: string, args?: Record<string, string | number>) {
    for (const b of bundles) {
      const msg = b.getMessage(id);
      const pattern = attr ? msg?.attributes[attr] : msg?.value;
      if (pattern) return b.formatPattern(pattern, args, []);
    }
    return undefined;
  }

  /** A message of the tool itself. */
  t(id: string, args?: Record<string, string | number>): string {
    return this.format(this.tool, id, undefined, args) ?? id;
  }

  private formText(id: string, attr: string | undefined, fallback: string): string;
  private formText(id: string, attr: string | undefined, fallback: string | undefined): string | undefined;
  private formText(id: string, attr: string | undefined, fallback: string | undefined) {
    return this.format(this.forms, id, attr) ?? fallback;
  }

  formTitle(form: Form): string {
    return this.formText('form-title', undefined, form.title);
  }
  formDescription(form: Form): string | undefined {
    return this.formText('form-description', undefined, form.description);
  }
  sectionTitle(s: Section): string {
    return this.formText(`section-${s.id}`, undefined, s.title);
  }
  sectionDescription(s: Section): string | undefined {
    return this.formText(`section-${s.id}`, 'description', s.description);
  }
  label(f: Field): string {
    return this.formText(`field-${f.id}`, undefined, f.label);
  }
  help(f: Field): string | undefined {
    return this.formText(`field-${f.id}`, 'help', f.help);
  }
  placeholder(f: Field): string | undefined {
    return this.formText(`field-${f.id}`, 'placeholder', f.placeholder);
  }
  optionLabel(f: Field, o: Option): string {
    return this.formText(optionKey(f.id, o.value), undefined, o.label);
  }

  /** The error message alone ("must be at least 2 characters"). */
  error(err: FieldError, field?: Field): string {
    if (err.code === 'pattern' && field) {
      const custom = this.formText(`field-${field.id}`, 'message', field.validation.message);
      if (custom) return err.params.item ? this.t('error-item', { item: err.params.item, message: custom }) : custom;
    }
    const text = this.t(`error-${err.code.replace(/_/g, '-')}`, err.params);
    return err.params.item && err.code !== 'duplicate'
      ? this.t('error-item', { item: err.params.item, message: text })
      : text;
  }

  /** "Full name (full_name): must be at least 2 characters" */
  errorLine(err: FieldError, form: Form): string {
    const field = form.byId.get(err.field);
    const who = field ? `${this.label(field)} (${field.id})` : `'${err.field}'`;
    return `${who}: ${this.error(err, field)}`;
  }

  yesNo(v: boolean): string {
    return this.t(v ? 'yes' : 'no');
  }
}

/** The ids a form's translation should define, for `typedialog locales`. */
export function expectedFormIds(form: Form): string[] {
  const ids = ['form-title'];
  if (form.description) ids.push('form-description');
  for (const s of form.sections) {
    ids.push(`section-${s.id}`);
    if (s.description) ids.push(`section-${s.id}.description`);
  }
  for (const f of form.fields) {
    ids.push(`field-${f.id}`);
    if (f.help) ids.push(`field-${f.id}.help`);
    if (f.placeholder) ids.push(`field-${f.id}.placeholder`);
    if (f.validation.message) ids.push(`field-${f.id}.message`);
    for (const o of f.options) ids.push(optionKey(f.id, o.value));
  }
  return ids;
}

/** The ids (and `id.attr`) an .ftl file defines, and its parse errors. */
export function ftlIds(file: string): { ids: Set<string>; errors: string[] } {
  const res = new FluentResource(readFileSync(file, 'utf8'));
  const b = new FluentBundle('en', { useIsolating: false });
  const errors = b.addResource(res).map((e) => e.message);
  const ids = new Set<string>();
  for (const m of res.body) {
    if (m.id.startsWith('-')) continue;
    if (m.value) ids.add(m.id);
    for (const a of Object.keys(m.attributes)) ids.add(`${m.id}.${a}`);
  }
  return { ids, errors };
}
