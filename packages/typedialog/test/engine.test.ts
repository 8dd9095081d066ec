import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '@stratumiops/nickel';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadAnswers, parseAnswers } from '../src/core/answers.js';
import { checkAnswers, createContext, invalidAnswers } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import { parseText } from '../src/core/input.js';
import { nickelString, toNickel } from '../src/core/nickel-text.js';
import { serialize } from '../src/core/output.js';
import { ALL_TYPES, ctxFor, now, onboarding, tmp } from './helpers.js';

const ctx = ctxFor(ALL_TYPES);
const base = { name: 'ada', agree: true, hosts: ['a.example', 'b.example'] };
const errorsOf = (answers: Record<string, unknown>) =>
  ctx.engine.validate({ ...base, ...answers }).errors.map((e) => `${e.field}:${e.code}`);

describe('the engine, field type by field type', () => {
  it('accepts a complete answer set and leaves out empty optional answers', () => {
    const r = ctx.engine.validate({ ...base, secret: '', count: 2.5, color: 'green', shade: 'dark', tags: [] });
    expect(r.errors).toEqual([]);
    expect(r.values).toEqual({ ...base, count: 2.5, color: 'green', shade: 'dark' });
  });

  it.each([
    ['text: too short', { name: 'a' }, 'name:min_length'],
    ['text: too long', { name: 'abcdefghijk' }, 'name:max_length'],
    ['text: pattern', { name: 'Ada' }, 'name:pattern'],
    ['text: wrong type', { name: 42 }, 'name:type'],
    ['text: required', { name: '' }, 'name:required'],
    ['password: too short', { secret: 'short' }, 'secret:min_length'],
    ['number: below min', { count: 0.5 }, 'count:min'],
    ['number: above max', { count: 11 }, 'count:max'],
    ['number: off step', { count: 1.25 }, 'count:step'],
    ['number: a string', { count: '3' }, 'count:type'],
    ['confirm: a string', { agree: 'maybe' }, 'agree:type'],
    ['confirm: required', { agree: undefined }, 'agree:required'],
    ['select: unknown option', { color: 'purple' }, 'color:option'],
    ['multi-select: unknown option', { tags: ['a', 'z'] }, 'tags:option'],
    ['multi-select: too many', { tags: ['a', 'b', 'c'] }, 'tags:max_items'],
    ['multi-select: twice', { tags: ['a', 'a'] }, 'tags:duplicate'],
    ['multi-select: not a list', { tags: 'a' }, 'tags:type'],
    ['date: not a date', { day: '2024-02-30' }, 'day:date'],
    ['date: before min', { day: '2019-12-31' }, 'day:min'],
    ['date: after today', { day: '2026-03-16' }, 'day:max'],
    ['editor: too long', { bio: 'x'.repeat(51) }, 'bio:max_length'],
    ['list: item pattern', { hosts: ['ok', 'Not OK'] }, 'hosts:pattern'],
    ['list: fewer than min_items', { hosts: ['one'] }, 'hosts:min_items'],
    ['list: items must be text', { hosts: [1] }, 'hosts:type'],
    ['unknown key', { colour: 'red' }, 'colour:unknown_field'],
  ])('%s', (_name, answers, expected) => {
    expect(errorsOf(answers)).toEqual([expected]);
  });

  it('takes an empty list as no answer: fine for an optional field, refused for a required one', () => {
    expect(errorsOf({ hosts: [] })).toEqual([]);
    expect(errorsOf({ tags: [] })).toEqual([]);
  });

  it('asks a field only when its condition holds, and ignores answers to fields that were not asked', () => {
    expect(errorsOf({ color: 'green' })).toEqual(['shade:required']);
    expect(errorsOf({ tags: ['c'] })).toEqual(['shade:required']);
    const r = ctx.engine.validate({ ...base, color: 'red', shade: 'dark' });
    expect(r.errors).toEqual([]);
    expect(r.ignored).toEqual(['shade']);
    expect(r.values).not.toHaveProperty('shade');
  });

  it('fills defaults only when asked to (answers files, --defaults), with today from the clock', () => {
    expect(ctx.engine.validate(base).values.day).toBeUndefined();
    expect(ctx.engine.validate(base, { defaults: true }).values.day).toBe('2026-03-15');
    expect(parseText(ctx.engine, ctx.form.byId.get('day')!, 'today')).toEqual({ ok: true, value: '2026-03-15' });
  });

  it('turns typed text into values the same way for every backend', () => {
    const f = (id: string) => ctx.form.byId.get(id)!;
    expect(parseText(ctx.engine, f('count'), ' 2.5 ')).toEqual({ ok: true, value: 2.5 });
    expect(parseText(ctx.engine, f('count'), 'two')).toMatchObject({ ok: false, error: { code: 'type' } });
    expect(parseText(ctx.engine, f('agree'), 'Sí')).toEqual({ ok: true, value: true });
    expect(parseText(ctx.engine, f('color'), 'Green')).toEqual({ ok: true, value: 'green' });
    expect(parseText(ctx.engine, f('color'), '3')).toEqual({ ok: true, value: 'blue' });
    expect(parseText(ctx.engine, f('tags'), 'a, 2')).toEqual({ ok: true, value: ['a', 'b'] });
    expect(parseText(ctx.engine, f('hosts'), 'x\ny')).toEqual({ ok: true, value: ['x', 'y'] });
    expect(parseText(ctx.engine, f('secret'), ' keep spaces ')).toEqual({ ok: true, value: ' keep spaces ' });
    expect(parseText(ctx.engine, f('name'), '   ')).toEqual({ ok: true, value: undefined });
  });
});

describe('answers files', () => {
  const want = { name: 'ada', count: 2, agree: true, tags: ['a'], day: '2025-01-02' };
  it.each([
    ['json', JSON.stringify(want)],
    ['yaml', YAML.stringify(want)],
    ['toml', 'name = "ada"\ncount = 2\nagree = true\ntags = ["a"]\nday = 2025-01-02\n'],
  ] as const)('reads %s (TOML dates become YYYY-MM-DD)', (format, text) => {
    expect(parseAnswers(text, `answers.${format}`, format)).toEqual(want);
  });

  it('names file, line and column of a syntax error, and refuses what is not a table', () => {
    expect(() => parseAnswers('a: [1\nb: 2', 'a.yaml', 'yaml')).toThrow(/malformed answers file a\.yaml:2:1/);
    expect(() => parseAnswers('a = \n', 'a.toml', 'toml')).toThrow(/a\.toml:1:5/);
    expect(() => parseAnswers('{"a": }', 'a.json', 'json')).toThrow(/malformed answers file a\.json/);
    expect(() => parseAnswers('[1, 2]', 'a.json', 'json')).toThrow(/expected a table/);
    const dir = tmp();
    writeFileSync(join(dir, 'a.txt'), 'x');
    expect(() => loadAnswers(join(dir, 'a.txt'))).toThrow(/cannot tell the format/);
    expect(() => loadAnswers(join(dir, 'missing.json'))).toThrow(/does not exist/);
  });
});

describe('output', () => {
  const values = {
    name: 'Ada "the first" Lovelace',
    note: 'costs 100% %{not interpolated}\\ \n\ttab \u0007 bell',
    'odd key': 1.5,
    let: true,
    tags: ['a', 'b'],
    nested: [{ x: 1 }],
  };

  it('writes Nickel that Nickel reads back to the same value', async () => {
    const text = serialize(values, 'nickel');
    expect(await evaluate(text, { mode: 'full' })).toEqual(values);
    expect(text).toContain('"odd key" = 1.5');
    expect(text).toContain('"let" = true');
    expect(nickelString('%{x}')).toBe('"\\%{x}"');
    expect(nickelString('\b\f')).toBe('"\\u{8}\\u{c}"');
    expect(() => toNickel(Number.NaN)).toThrow();
  });

  it('writes json, yaml and toml that parse back to the same value', () => {
    expect(JSON.parse(serialize(values, 'json'))).toEqual(values);
    expect(YAML.parse(serialize(values, 'yaml'))).toEqual(values);
    expect(parseToml(serialize(values, 'toml'))).toEqual(values);
  });
});

describe('nickel:// contracts', () => {
  const form = loadForm(onboarding);
  const good = {
    full_name: 'Ada',
    email: 'ada@example.com',
    department: 'design',
    remote: true,
    username: 'ada',
    password: 'correct horse battery',
  };

  it('checks the answers the engine accepted against the contract, and maps its error to the field', async () => {
    const c = createContext(form, { now });
    expect((await checkAnswers(c, good, { defaults: true })).errors).toEqual([]);
    const r = await checkAnswers(c, { ...good, username: 'admin' }, { defaults: true });
    expect(r.errors).toEqual([
      {
        field: 'username',
        code: 'contract',
        params: expect.objectContaining({ message: '"admin" is reserved for the system' }),
      },
    ]);
    expect(invalidAnswers(c, r.errors).display).toContain('- Username (username): "admin" is reserved for the system');
  });

  it('never quotes a password in a contract error, even when the contract message does', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'f.toml'),
      '[form]\nid = "f"\ntitle = "F"\n[[sections]]\nid = "s"\n[[sections.fields]]\nid = "pw"\ntype = "password"\n' +
        '[output]\nvalidation = "nickel://c.ncl"\n',
    );
    writeFileSync(
      join(dir, 'c.ncl'),
      '{ pw | std.contract.from_validator (fun v => \'Error { message = "%{v} is weak" }) }\n',
    );
    const c = createContext(loadForm(join(dir, 'f.toml')), { now });
    const r = await checkAnswers(c, { pw: 'hunter2hunter2' });
    expect(r.errors).toEqual([{ field: 'pw', code: 'contract', params: expect.any(Object) }]);
    expect(JSON.stringify(r.errors)).not.toContain('hunter2');
    expect(invalidAnswers(c, r.errors).display).toContain('pw (pw): is refused by the contract');
  });

  it('reports fields the contract requires and the form left empty', async () => {
    const lenient = createContext(
      { ...form, fields: form.fields.map((f) => (f.id === 'username' ? { ...f, required: false } : f)) },
      { now },
    );
    const r = await checkAnswers(lenient, { ...good, username: undefined }, { defaults: true });
    expect(r.errors).toEqual([
      { field: 'username', code: 'contract', params: expect.objectContaining({ message: 'required by the contract' }) },
    ]);
  });
});
