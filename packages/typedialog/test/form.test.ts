import { StratumError } from '@stratumiops/shared/errors';
import { describe, expect, it } from 'vitest';
import { evalCondition, parseCondition } from '../src/core/condition.js';
import { FIELD_TYPES, loadForm, parseForm } from '../src/core/form.js';
import { ALL_TYPES, cluster, onboarding } from './helpers.js';

function issues(toml: string): { line: number; message: string }[] {
  try {
    parseForm(toml, 'bad.toml');
  } catch (e) {
    expect(e).toBeInstanceOf(StratumError);
    expect((e as StratumError).exitCode).toBe(3);
    return (e as StratumError).details?.issues as { line: number; message: string }[];
  }
  throw new Error('the form was accepted');
}

const HEAD = '[form]\nid = "f"\ntitle = "F"\n\n[[sections]]\nid = "s"\n\n';

describe('form model', () => {
  it('reads the example form (employee_onboarding) with every section, field and line', () => {
    const form = loadForm(onboarding);
    expect(form.id).toBe('employee_onboarding');
    expect(form.sections.map((s) => s.id)).toEqual(['personal', 'role', 'access']);
    expect(form.byId.get('skills')).toMatchObject({ type: 'multi-select', display_mode: 'grid', section: 'role' });
    expect(form.byId.get('start_date')?.default).toBe('today');
    expect(form.byId.get('full_name')?.validation).toEqual({ min_length: 2, max_length: 100 });
    expect(form.output.contractPath).toMatch(/examples\/forms\/schemas\/employee\.ncl$/);
    expect(form.byId.get('full_name')?.line).toBe(15);
  });

  it('covers every field type in one form', () => {
    const form = parseForm(ALL_TYPES);
    expect(new Set(form.fields.map((f) => f.type))).toEqual(new Set(FIELD_TYPES));
    expect(loadForm(cluster).fields.length).toBeGreaterThan(25);
  });

  it('reports TOML syntax errors with their line', () => {
    const [i] = issues(`${HEAD}[[sections.fields]]\nid = "a"\ntype = \n`);
    expect(i).toMatchObject({ line: 10 });
    expect(i?.message).toMatch(/TOML syntax/);
  });

  it('lists every problem at once, each with its line', () => {
    const found = issues(`${HEAD}[[sections.fields]]
id = "a"
type = "slider"

[[sections.fields]]
id = "b"
type = "number"
requried = true
default = "ten"
validation.min_length = 2
when = "c == 1"

[[sections.fields]]
id = "c"
type = "select"
default = "x"
options = [
  "y",
  "y",
]
validation.pattern = "(["
`);
    const byLine = Object.fromEntries(found.map((i) => [i.line, i.message]));
    expect(byLine[10]).toMatch(/field 'a' type: unknown field type 'slider' \(expected one of text, password/);
    expect(byLine[15]).toBe("field 'b': unknown key 'requried'");
    expect(byLine[16]).toBe("field 'b' default: default must be a number");
    expect(byLine[17]).toMatch(/'min_length' does not apply to number fields/);
    expect(byLine[18]).toMatch(/reads 'c', which is not an earlier field/);
    expect(byLine[23]).toMatch(/default 'x' is not one of the option values/);
    expect(byLine[26]).toMatch(/option value 'y' is used twice/);
    expect(found.filter((i) => i.line === 28).map((i) => i.message)).toEqual([
      "field 'c' validation.pattern: 'pattern' does not apply to select fields (only to text, password, editor, list)",
      "field 'c' validation.pattern: invalid regular expression /([/u: Unterminated character class",
    ]);
    expect(found).toHaveLength(9);
    expect(found.map((i) => i.line)).toEqual([...found.map((i) => i.line)].sort((a, b) => a - b));
  });

  it('refuses a missing title, a form without sections, duplicate ids and a password default', () => {
    expect(issues('[form]\nid = "x"\n').map((i) => i.message)).toEqual([
      'form.title: is missing',
      'sections: is missing',
    ]);
    const dup = issues(
      `${HEAD}[[sections.fields]]\nid = "a"\ntype = "text"\n` +
        `[[sections.fields]]\nid = "a"\ntype = "password"\ndefault = "hunter2"\n`,
    );
    expect(dup.map((i) => i.message)).toEqual([
      "field 'a' id: field id 'a' is used twice",
      "field 'a' default: a password field cannot have a default (it would be stored in the form file)",
    ]);
  });

  it('checks nickel:// contracts exist relative to the form file', () => {
    const found = issues(
      `${HEAD}[[sections.fields]]\nid = "a"\ntype = "text"\n[output]\nvalidation = "nickel://nope.ncl"\n`,
    );
    expect(found).toEqual([
      expect.objectContaining({ line: 12, message: expect.stringMatching(/contract file nope.ncl not found/) }),
    ]);
    expect(
      issues(`${HEAD}[[sections.fields]]\nid = "a"\ntype = "text"\n[output]\nvalidation = "schemas/x.ncl"\n`)[0]
        ?.message,
    ).toMatch(/expected nickel:\/\/path/);
    expect(() => loadForm('/nonexistent/form.toml')).toThrow(/does not exist/);
  });
});

describe('when conditions', () => {
  const answers = { provider: 'aws', workers: 5, public: false, skills: ['rust', 'go'], name: 'ada' };
  it.each([
    ["provider == 'aws'", true],
    ["provider != 'aws'", false],
    ['workers > 3 && !public', true],
    ['workers >= 6 || public', false],
    ["provider in ['gcp', 'aws']", true],
    ["skills contains 'go'", true],
    ["skills contains 'python'", false],
    ["not (provider == 'aws') or name == 'ada'", true],
    ['public', false],
    ['missing', false],
    ["missing != 'x'", true],
    ["missing == 'x'", false],
    ['workers == "5"', true],
  ])('%s → %s', (src, expected) => {
    expect(evalCondition(parseCondition(src), answers)).toBe(expected);
  });

  it.each([
    ["provider == 'aws", 'unclosed string'],
    ['provider ==', 'expected a field or a value'],
    ['a b', "unexpected 'b'"],
    ['a $ b', "unexpected character '$'"],
    ["a in 'x'", "'in' needs a list"],
  ])('rejects %s', (src, message) => {
    expect(() => parseCondition(src)).toThrow(message);
  });
});
