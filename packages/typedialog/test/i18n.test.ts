import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createContext } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import {
  chooseLocale,
  expectedFormIds,
  ftlIds,
  Messages,
  normalizeLocale,
  TOOL_LOCALES_DIR,
} from '../src/core/i18n.js';
import { forms, now, onboarding } from './helpers.js';

describe('i18n (Fluent)', () => {
  it('reads locales from LANG-style names', () => {
    expect(normalizeLocale('es_ES.UTF-8')).toBe('es-ES');
    expect(normalizeLocale('de_DE@euro')).toBe('de-DE');
    expect(normalizeLocale('C')).toBeUndefined();
    expect(normalizeLocale('POSIX')).toBeUndefined();
  });

  it('chooses --locale, then the configured locale, then LC_ALL / LC_MESSAGES / LANG, then English', () => {
    expect(chooseLocale('es-MX', 'en', { LANG: 'en_US.UTF-8' })).toBe('es');
    expect(chooseLocale(undefined, 'es', { LANG: 'en_US.UTF-8' })).toBe('es');
    expect(chooseLocale(undefined, undefined, { LC_ALL: 'es_AR.UTF-8', LANG: 'en_US' })).toBe('es');
    expect(chooseLocale(undefined, undefined, { LANG: 'es_ES.UTF-8' })).toBe('es');
    expect(chooseLocale(undefined, undefined, { LANG: 'fr_FR.UTF-8' })).toBe('en');
    expect(chooseLocale(undefined, undefined, {})).toBe('en');
    expect(() => chooseLocale('fr', undefined, {})).toThrow(/no messages for locale 'fr'/);
  });

  it("translates the tool's messages, with plurals", () => {
    const es = new Messages('es');
    expect(es.t('answers-invalid', { count: 1 })).toBe('Una respuesta no es válida');
    expect(es.t('answers-invalid', { count: 3 })).toBe('3 respuestas no son válidas');
    expect(es.error({ field: 'x', code: 'max_items', params: { limit: 1 } })).toBe('admite como máximo 1 elemento');
    expect(es.error({ field: 'x', code: 'type', params: { expected: 'date' } })).toBe(
      'debe ser una fecha (AAAA-MM-DD)',
    );
    const en = new Messages('en');
    expect(en.error({ field: 'x', code: 'min_items', params: { limit: 2 } })).toBe('needs at least 2 items');
    expect(en.t('no-such-message')).toBe('no-such-message');
  });

  it("translates a form's texts from locales/<locale>/<form id>.ftl, falling back to the TOML text", () => {
    const form = loadForm(onboarding);
    const es = createContext(form, { locale: 'es', now }).messages;
    expect(es.formTitle(form)).toBe('Alta de empleado');
    const email = form.byId.get('email')!;
    expect(es.label(email)).toBe('Correo del trabajo');
    expect(es.help(email)).toBe('Tu dirección en example.com');
    expect(es.error({ field: 'email', code: 'pattern', params: {} }, email)).toBe(
      'debe ser una dirección @example.com en minúsculas',
    );
    const dept = form.byId.get('department')!;
    expect(es.optionLabel(dept, dept.options[0]!)).toBe('Ingeniería');
    const en = createContext(form, { locale: 'en', now }).messages;
    expect(en.label(email)).toBe('Work email');
    expect(es.errorLine({ field: 'full_name', code: 'required', params: {} }, form)).toBe(
      'Nombre completo (full_name): es obligatorio',
    );
  });

  it('has every message in every shipped locale (tool and example forms)', () => {
    const en = ftlIds(join(TOOL_LOCALES_DIR, 'en', 'typedialog.ftl'));
    const es = ftlIds(join(TOOL_LOCALES_DIR, 'es', 'typedialog.ftl'));
    expect(en.errors).toEqual([]);
    expect(es.errors).toEqual([]);
    expect([...en.ids].filter((id) => !es.ids.has(id))).toEqual([]);
    for (const id of ['employee_onboarding', 'cluster']) {
      const form = loadForm(join(forms, `${id}.toml`));
      const file = join(forms, 'locales', 'es', `${id}.ftl`);
      expect(existsSync(file), file).toBe(true);
      const got = ftlIds(file);
      expect(got.errors).toEqual([]);
      expect(expectedFormIds(form).filter((x) => !got.ids.has(x))).toEqual([]);
    }
  });
});
