import { PassThrough } from 'node:stream';
import { StratumError } from '@stratumiops/shared/errors';
import { describe, expect, it } from 'vitest';
import { TuiBackend } from '../src/adapters/tui/index.js';
import { CancelledError } from '../src/core/backend.js';
import { createContext } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import { ALL_TYPES, ctxFor, now, onboarding } from './helpers.js';
import { KEY, startTui as start, tick } from './tui-harness.js';

describe('tui (ink)', () => {
  it('walks the sections with every field type, shows inline errors, and submits from the review screen', async () => {
    const t = start(ctxFor(ALL_TYPES));
    await tick();
    await t.see('All types');
    await t.see('Section 1 of 1');
    // text: inline error, then fixed
    await t.press('Ada', KEY.enter);
    await t.see('✖ lowercase letters only');
    await t.press('\u0015', 'ada\r'); // typed and Enter in one chunk, as a fast terminal sends them
    // password: masked
    await t.press('s3cret-pass');
    await t.see('***********');
    expect(t.frame()).not.toContain('s3cret');
    await t.press(KEY.enter);
    // number with a step
    await t.press('1.25', KEY.enter);
    await t.see('must be a multiple of 0.5');
    await t.press(KEY.bs, KEY.bs, '5', KEY.enter);
    // confirm: required, then yes
    await t.press(KEY.enter);
    await t.see('✖ is required');
    await t.press('y', KEY.enter);
    // select: second option
    await t.press(KEY.down, KEY.enter);
    // multi-select in a grid: a and c, three in a row
    await t.see(/\[ \] a\s+\[ \] b\s+\[ \] c/);
    await t.press(' ', KEY.right, KEY.right, ' ', KEY.enter);
    // date: the default (today from the pinned clock) is prefilled
    await t.see('2026-03-15');
    await t.press(KEY.enter);
    // editor: Enter adds a line, Ctrl+D finishes
    await t.press('line one', KEY.enter, 'line two', KEY.ctrlD);
    // list
    await t.press('a.example, b.example', KEY.enter);
    // shade appears because color is green
    await t.see('shade');
    await t.press(KEY.down, KEY.enter);
    // review
    await t.see('Review your answers');
    await t.see('secret: ••••••');
    await t.see('tags: a, c');
    await t.see('❯ Submit');
    await t.press(KEY.enter);
    await t.finished();
    expect(t.out.done).toEqual({
      name: 'ada',
      secret: 's3cret-pass',
      count: 1.5,
      agree: true,
      color: 'green',
      tags: ['a', 'c'],
      day: '2026-03-15',
      bio: 'line one\nline two',
      hosts: ['a.example', 'b.example'],
      shade: 'dark',
    });
    t.app.unmount();
  });

  it('goes back with Esc, and reopens a field from the review screen to fix a contract error', async () => {
    const t = start(createContext(loadForm(onboarding), { now, locale: 'es' }));
    await tick();
    await t.see('Alta de empleado');
    await t.see('Datos personales');
    await t.press('Ada', KEY.enter, 'ada@example.com', KEY.enter);
    await t.press(KEY.esc);
    await t.see('Correo del trabajo');
    await t.press(KEY.enter, KEY.enter); // email again, age empty
    await t.press(KEY.down, KEY.enter); // Producto
    await t.see('Fecha de incorporación');
    await t.press(KEY.enter, 'y', KEY.enter); // date, remote → no office
    await t.press('admin', KEY.enter, 'correct horse battery', KEY.enter, KEY.enter, KEY.ctrlD);
    await t.see('Hay que corregir una respuesta');
    await t.see('✖ "admin" is reserved for the system');
    await t.see(/❯ Usuario: admin/);
    await t.press(KEY.enter); // edit the field under the cursor
    await t.see('Usuario');
    await t.press('\u0015', 'ada', KEY.enter); // back to the review screen
    await t.see('❯ Enviar');
    expect(t.frame()).not.toContain('✖');
    await t.press(KEY.enter);
    await t.finished();
    expect(t.out.done).toMatchObject({ full_name: 'Ada', department: 'product', remote: true, username: 'ada' });
    t.app.unmount();
  });

  it('drafts open on the review screen as the model wrote them, wrong types too, each refused one with its reason', async () => {
    const t = start(ctxFor(ALL_TYPES), {
      drafts: {
        name: 'ada',
        count: 'three',
        color: { pick: 'green' },
        agree: true,
        hosts: ['a.example', 'b.example'],
      },
    });
    await t.see('Review the drafted answers');
    expect(t.frame()).toContain('name: ada');
    expect(t.frame()).toContain('count: three');
    expect(t.frame()).toContain('color: {"pick":"green"}');
    expect(t.frame()).toMatch(/❯ count: three\n.*✖ /);
    await t.press(KEY.enter);
    await t.see('› three');
    await t.press(...Array(5).fill(KEY.bs), '4', KEY.enter);
    await t.see(/❯ color: \{"pick":"green"\}/);
    await t.press(KEY.enter);
    await t.press(KEY.down, KEY.enter);
    // Green opens a required field the draft did not answer: the review waits on it.
    await t.see(/❯ shade: \(empty\)\n.*✖ is required/);
    await t.press(KEY.enter, KEY.enter);
    await t.see('❯ Submit');
    await t.press(KEY.enter);
    await t.finished();
    expect(t.out.done).toMatchObject({ name: 'ada', count: 4, color: 'green', agree: true, shade: 'light' });
  });

  it('cancels on Ctrl+C', async () => {
    const t = start(ctxFor(ALL_TYPES));
    await tick();
    await t.press('\u0003');
    expect(t.out.cancelled).toBe(true);
    t.app.unmount();
  });

  it('fails at once with exit 2 when stdin is not a terminal, and when it closes', async () => {
    const ctx = ctxFor(ALL_TYPES);
    const notTty = Object.assign(new PassThrough(), { isTTY: false });
    const err = await new TuiBackend().execute(ctx, { input: notTty }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StratumError);
    expect((err as StratumError).exitCode).toBe(2);
    expect((err as StratumError).hint).toMatch(/--answers.*--defaults/);

    const tty = Object.assign(new PassThrough(), {
      isTTY: true,
      setRawMode: () => tty,
      ref: () => tty,
      unref: () => tty,
    });
    const screen = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 24 });
    screen.resume();
    const running = new TuiBackend().execute(ctx, { input: tty, output: screen });
    await tick(50);
    tty.end();
    const closed = await running.catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(StratumError);
    expect((closed as StratumError).message).toMatch(/stdin closed/);
    expect((closed as StratumError).exitCode).toBe(2);
    expect(CancelledError).toBeDefined();
  });
});
