/** Answers and messages a first-time user met (issue 21): yes/no in answers files, step and date wording. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeErrors } from '../src/core/context.js';
import { ctxFor, field, onboarding, oneSectionForm, tmp, typedialog } from './helpers.js';

const FORM = oneSectionForm(
  'm',
  'M',
  field('remote', 'confirm', { label: 'Remote', required: true }),
  field('age', 'number', { label: 'Age', 'validation.min': 18, 'validation.step': 1 }),
  field('cpus', 'number', { label: 'CPUs', 'validation.min': 1, 'validation.step': 2 }),
  field('disk', 'number', { label: 'Disk', 'validation.step': 10 }),
  field('ratio', 'number', { label: 'Ratio', 'validation.step': 0.5 }),
  field('start', 'date', { label: 'Start', 'validation.min': 'today' }),
);

describe('first-time-user rough edges', () => {
  it('yes/no fields take "yes", "no", "y", "n", "true", "false", "on", "off" (any case) and give booleans', () => {
    const ctx = ctxFor(FORM);
    for (const [text, value] of [
      ['yes', true],
      ['No', false],
      ['Y', true],
      ['false', false],
      ['on', true],
    ] as const) {
      const r = ctx.engine.validate({ remote: text });
      expect(r.errors).toEqual([]);
      expect(r.values.remote).toBe(value);
    }
    expect(ctx.engine.validate({ remote: 'maybe' }).errors).toEqual([
      { field: 'remote', code: 'type', params: { expected: 'boolean' } },
    ]);
  });

  it('step and date messages say what is meant', () => {
    const ctx = ctxFor(FORM);
    const msg = (answers: Record<string, unknown>) =>
      describeErrors(ctx, ctx.engine.validate({ remote: true, ...answers }).errors).map(
        (e) => `${e.field}: ${e.message}`,
      );
    expect(msg({ age: 30.5 })).toEqual(['age: must be a whole number']);
    expect(msg({ cpus: 4 })).toEqual(['cpus: must be 1 plus a multiple of 2']);
    expect(msg({ disk: 15 })).toEqual(['disk: must be a multiple of 10']);
    expect(msg({ ratio: 0.7 })).toEqual(['ratio: must be a multiple of 0.5']);
    expect(msg({ start: '2026-03-14' })).toEqual(['start: must be at least 2026-03-15 (today)']);
  });

  it('an answers file with YAML yes/no and JSON "no" for yes/no fields is accepted', async () => {
    const dir = tmp();
    const base = { full_name: 'Ada Lovelace', email: 'ada@example.com', department: 'design', username: 'ada' };
    writeFileSync(
      join(dir, 'a.yaml'),
      `${Object.entries(base)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')}\nremote: yes\npassword: correct horse battery\n`,
    );
    const r = await typedialog(['run', onboarding, '--answers', join(dir, 'a.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).remote).toBe(true);
  });

  it('field rules and the Nickel contract are checked in one round and reported together', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'a.yaml'),
      'full_name: Ada Lovelace\nemail: ada@example.com\nage: 17\ndepartment: design\nremote: no\noffice: berlin\nusername: root\npassword: correct horse battery\n',
    );
    const r = await typedialog(['run', onboarding, '--answers', join(dir, 'a.yaml')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      [
        `typedialog: 2 answers are invalid (${join(dir, 'a.yaml')})`,
        '  - Age (age): must be at least 18',
        '  - Username (username): "root" is reserved for the system',
        '',
      ].join('\n'),
    );
  });
});
