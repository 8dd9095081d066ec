import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '@stratumiops/nickel';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cluster, forms, onboarding, tmp, typedialog } from './helpers.js';

// One answer per line, in the order the form asks (skills: engineering; office: not remote).
const PIPED = [
  'Ada Lovelace',
  'ada@example.com',
  '36',
  'Engineering',
  'rust, 3',
  '2026-04-01',
  'no',
  'berlin',
  'ada',
  'correct horse battery',
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 ada@laptop',
  '<<END',
  'Needs a "big" monitor',
  '100% remote-ready',
  'END',
].join('\n');

describe('typedialog run (the real binary)', () => {
  it('reads piped answers line by line (cli backend off a terminal): questions on stderr, only the result on stdout', async () => {
    const r = await typedialog(['run', onboarding], { input: `${PIPED}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\? Full Name \* \(full_name\)\n\? Work email \* \(email\)\n/);
    expect(r.stderr.split('\n').every((l) => l === '' || l.startsWith('? '))).toBe(true);
    expect(r.stderr).not.toContain('correct horse battery');
    const today = JSON.parse(r.stdout);
    expect(today).toEqual({
      full_name: 'Ada Lovelace',
      email: 'ada@example.com',
      age: 36,
      department: 'engineering',
      skills: ['rust', 'python'],
      start_date: '2026-04-01',
      remote: false,
      office: 'berlin',
      username: 'ada',
      password: 'correct horse battery',
      ssh_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 ada@laptop'],
      notes: 'Needs a "big" monitor\n100% remote-ready',
    });
  });

  it('stops at the first refused line with its number (exit 3); exit 2 naming --answers and --defaults when stdin is empty', async () => {
    const bad = await typedialog(['run', onboarding, '--backend', 'cli', '--json'], {
      input: 'Ada Lovelace\nada@example.com\n17\nEngineering\n2026-04-01\nyes\nroot\nshort\n\n\n',
    });
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stdout).error).toMatchObject({
      message: 'stdin line 3: Age (age): must be at least 18',
      hint: 'each line answers the next question, so the lines after 3 were not read: fix line 3 and run again',
      details: { line: 3 },
    });
    expect(bad.stderr).toMatch(
      /^\? Full Name \* \(full_name\)\n\? Work email \* \(email\)\n\? Age \(age\)\ntypedialog: stdin line 3: /,
    );
    const empty = await typedialog(['run', onboarding]);
    expect(empty.code).toBe(2);
    expect(empty.stderr.trim()).toBe(
      'typedialog: stdin is not a terminal and gave no answers ' +
        '(pass --answers <file> (json, yaml or toml) or --defaults)',
    );
    const short = await typedialog(['run', onboarding, '--json'], { input: 'Ada\n' });
    expect(short.code).toBe(2);
    expect(JSON.parse(short.stdout).error).toMatchObject({ code: 'usage', exitCode: 2 });
    expect(short.stderr).toContain("before 'email' was answered");
  });

  it('takes an answers file without prompting, writes --out atomically (owner-only: it holds a password)', async () => {
    const dir = tmp();
    const answers = join(dir, 'answers.yaml');
    writeFileSync(
      answers,
      YAML.stringify({
        full_name: 'Ada',
        email: 'ada@example.com',
        department: 'design',
        remote: true,
        office: 'madrid',
        username: 'ada',
        password: 'correct horse battery',
      }),
    );
    const out = join(dir, 'result.toml');
    const r = await typedialog(['run', onboarding, '--answers', answers, '--out', out, '--format', 'toml', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      form: 'employee_onboarding',
      via: 'answers',
      format: 'toml',
      out,
      ignored: ['office'],
    });
    expect(readFileSync(out, 'utf8')).toContain('full_name = "Ada"');
    expect(readFileSync(out, 'utf8')).not.toContain('office');
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('refuses answers with wrong types and unknown keys (exit 3, each listed) and writes nothing', async () => {
    const dir = tmp();
    const answers = join(dir, 'answers.json');
    writeFileSync(
      answers,
      JSON.stringify({
        full_name: ['Ada'],
        email: 'ada@example.com',
        age: '36',
        department: 'design',
        remote: 'maybe',
        username: 'ada',
        password: 'correct horse battery',
        shoe_size: 44,
      }),
    );
    const out = join(dir, 'result.json');
    const r = await typedialog(['run', onboarding, '-a', answers, '-o', out, '--json']);
    expect(r.code).toBe(3);
    const errors = JSON.parse(r.stdout).error.details.errors as { field: string; message: string }[];
    expect(errors.map((e) => `${e.field}: ${e.message}`)).toEqual([
      'full_name: must be text',
      'age: must be a number',
      'remote: must be yes or no',
      'office: is required',
      'shoe_size: is not a field of this form',
    ]);
    expect(r.stdout).not.toContain('correct horse battery');
    expect(existsSync(out)).toBe(false);
  });

  it('--defaults gives valid Nickel output; a malformed answers file is exit 3 with file:line:col', async () => {
    const r = await typedialog(['run', cluster, '--defaults', '--format', 'nickel']);
    expect(r.code, r.stderr).toBe(0);
    expect(await evaluate(r.stdout, { mode: 'full' })).toMatchObject({
      name: 'demo',
      provider: 'aws',
      worker_count: 3,
    });
    const dir = tmp();
    writeFileSync(join(dir, 'a.toml'), 'name = "x"\nworkers = \n');
    const bad = await typedialog(['run', cluster, '-a', join(dir, 'a.toml')]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`malformed answers file ${join(dir, 'a.toml')}:2:11`);
  });

  it('speaks Spanish with --locale es or LANG=es_ES.UTF-8, and refuses an unknown --locale', async () => {
    const r = await typedialog(['run', onboarding, '--defaults', '--locale', 'es']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('typedialog: 6 respuestas no son válidas (--defaults)');
    expect(r.stderr).toContain('  - Nombre completo (full_name): es obligatorio');
    const lang = await typedialog(['check', onboarding, '-'], { input: '{"age": 3}', env: { LANG: 'es_ES.UTF-8' } });
    expect(lang.stderr).toContain('  - Edad (age): debe ser como mínimo 18');
    const fr = await typedialog(['run', onboarding, '--locale', 'fr']);
    expect(fr.code).toBe(2);
    expect(fr.stderr).toContain("no messages for locale 'fr' (available: en, es)");
  });

  it('refuses the tui off a terminal, and the agent backend without --agent (exit 2)', async () => {
    const tui = await typedialog(['run', onboarding, '--backend', 'tui']);
    expect(tui.code).toBe(2);
    expect(tui.stderr).toContain('the tui backend needs an interactive terminal');
    expect(tui.stderr).toContain('--answers');
    const agent = await typedialog(['run', onboarding, '--backend', 'agent']);
    expect(agent.code).toBe(2);
    expect(agent.stderr).toContain('the agent backend drafts answers with an agent: pass --agent FILE.agent.mdx');
  });
});

describe('typedialog validate, check, form, locales', () => {
  it('a folder where a form, an agent or an answers file goes: exit 2 naming the command that takes folders', async () => {
    const agents = join(forms, '..', 'agents');
    for (const [args, says] of [
      [
        ['validate', forms],
        `${forms} is a folder, not a form file ('typedialog form list ${forms}' checks every form in it)`,
      ],
      [['run', forms, '--defaults'], `${forms} is a folder, not a form file`],
      [
        ['agent', 'run', agents],
        `${agents} is a folder, not an agent file ('typedialog agent validate ${agents}' checks every agent in it)`,
      ],
      [['check', cluster, forms], `answers file ${forms} is a folder`],
    ] as const) {
      const r = await typedialog([...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(says);
    }
  });

  it('validate: a good form, and a malformed one with every problem and its line (exit 3)', async () => {
    const good = await typedialog(['validate', onboarding, '--json']);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ id: 'employee_onboarding', sections: 3, fields: 12, valid: true });
    const dir = tmp();
    const file = join(dir, 'bad.toml');
    writeFileSync(
      file,
      [
        '[form]\nid = "x"\ntitle = "X"\n\n[[sections]]\nid = "s"\n',
        '[[sections.fields]]\nid = "a"\ntype = "slider"\n',
        '[[sections.fields]]\nid = "b"\ntype = "text"\nwhen = "a =="\n',
      ].join('\n'),
    );
    const bad = await typedialog(['validate', file]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toBe(
      [
        `typedialog: ${file} is not a valid form (2 problems)`,
        `  ${file}:10: field 'a' type: unknown field type 'slider' (expected one of text, password, number, ` +
          'confirm, select, multi-select, date, editor, list)',
        `  ${file}:15: field 'b' when: invalid condition at column 5: ` +
          "expected a field or a value, found 'end of condition'",
        '',
      ].join('\n'),
    );
  });

  it('check: every failing answer listed, --json errors as data', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'a.json'),
      JSON.stringify({ name: 'Bad Name', worker_count: 2.5, provider: 'aws', kms_key_id: 'nope' }),
    );
    const r = await typedialog(['check', cluster, join(dir, 'a.json'), '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.details.errors.map((e: { field: string }) => e.field)).toEqual([
      'name',
      'worker_count',
      'kms_key_id',
    ]);
  });

  it('form list, form show and locales', async () => {
    // Every example form is valid (other examples may join the folder).
    const list = await typedialog(['form', 'list', forms, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout).forms.map((f: { id: string; valid: boolean }) => [f.id, f.valid]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['cluster', true],
        ['code_review', true],
        ['employee_onboarding', true],
      ]),
    );
    expect(rows.filter(([, valid]: [string, boolean]) => !valid)).toEqual([]);
    const dir = tmp();
    copyFileSync(join(forms, 'code_review.toml'), join(dir, 'code_review.toml'));
    writeFileSync(join(dir, 'broken.toml'), '[form]\nid = "broken"\ntitle = 3\n');
    const mixed = await typedialog(['form', 'list', dir, '--json']);
    expect(JSON.parse(mixed.stdout).forms).toMatchObject([
      { file: join(dir, 'broken.toml'), id: 'broken', title: '', valid: false, problems: 2 },
      { id: 'code_review', valid: true },
    ]);
    const show = await typedialog(['form', 'show', onboarding, '--locale', 'es']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Alta de empleado (employee_onboarding 1.0.0, locale es)');
    expect(show.stdout).toMatch(/skills\s+multi-select\s+Habilidades\s+-\s+-\s+department == 'engineering'/);
    const loc = await typedialog(['locales', onboarding, '--json']);
    expect(loc.code).toBe(0);
    const doc = JSON.parse(loc.stdout);
    expect(
      doc.locales.map((l: { locale: string; form_missing: string[] }) => [l.locale, l.form_missing.length]),
    ).toEqual([
      ['en', 0],
      ['es', 0],
    ]);
  });
});
