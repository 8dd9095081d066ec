/** The tui's editing keys, its counter and its scrolling review, through ink-testing-library. */
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { FormApp } from '../src/adapters/tui/app.js';
import { checkAnswers, createContext, type FormContext } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import { cluster, ctxFor, now } from './helpers.js';

const tick = (ms = 25) => new Promise((r) => setTimeout(r, ms));
const KEY = { up: '\u001B[A', down: '\u001B[B', left: '\u001B[D', right: '\u001B[C', enter: '\r', bs: '\u007F' };

function start(ctx: FormContext, rows?: number) {
  const out: { done?: Record<string, unknown> } = {};
  const app = render(
    createElement(FormApp, {
      ctx,
      check: (v) => checkAnswers(ctx, v),
      onDone: (v) => {
        out.done = v;
      },
      onCancel: () => {},
    }),
  );
  if (rows) Object.defineProperty(app.stdout, 'rows', { value: rows });
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      app.stdin.write(k);
      await tick();
    }
  };
  const frame = () => app.lastFrame() ?? '';
  const see = async (text: string | RegExp) => {
    const has = () => (typeof text === 'string' ? frame().includes(text) : text.test(frame()));
    for (let i = 0; i < 150 && !has(); i++) await tick(20);
    expect(frame()).toMatch(typeof text === 'string' ? new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : text);
  };
  const finished = async () => {
    for (let i = 0; i < 150 && !out.done; i++) await tick(20);
  };
  return { app, out, press, frame, see, finished };
}

const FORM = `
[form]
id = "k"
title = "Keys"
[[sections]]
id = "s"
[[sections.fields]]
id = "name"
type = "text"
label = "Name"
[[sections.fields]]
id = "cloud"
type = "confirm"
label = "Cloud"
default = false
[[sections.fields]]
id = "region"
type = "text"
label = "Region"
when = "cloud"
[[sections.fields]]
id = "note"
type = "text"
label = "Note"
`;

describe('tui keys', () => {
  it('several backspaces in one read, ←/→ to move the caret, Ctrl+U in a chunk', async () => {
    const t = start(ctxFor(FORM));
    await t.see('Name');
    await t.press('abcdef');
    await t.press('\u007F\u007F\u007F'); // three backspaces arriving together
    await t.see(/› abc$/m);
    await t.press(KEY.left, KEY.left, 'X');
    await t.see('› aXbc');
    await t.press(KEY.right, KEY.right, 'Z');
    await t.see('› aXbcZ');
    await t.press('junk\u0015ok'); // Ctrl+U among other keys: clears, then 'ok'
    await t.see(/› ok$/m);
    await t.press(KEY.left, KEY.left, 'n', KEY.enter);
    await t.see('Cloud');
    expect(t.frame()).toContain('question 2 of 4');
  });

  it('a line feed is Enter: Ctrl+J, and an Enter typed before the tui took the terminal (it arrives as \\n)', async () => {
    const t = start(ctxFor(FORM));
    await t.see('Name');
    await t.press('ada', '\n');
    await t.see('Cloud');
    await t.press('\n', '\n');
    await t.see('Review your answers');
    await t.press('\n');
    await t.finished();
    expect(t.out.done).toEqual({ name: 'ada', cloud: false });
  });

  it('"question N of M" never grows: fields a condition may still open are counted until it is decided', async () => {
    const t = start(ctxFor(FORM));
    await t.see('question 1 of 4');
    await t.press('ada', KEY.enter);
    await t.see('question 2 of 4');
    await t.press(KEY.enter); // cloud: no (the default)
    await t.see('question 3 of 3');
    expect(t.frame()).toContain('Note');
  });

  it('the review scrolls on a short terminal: a window around the cursor with what is above and below', async () => {
    const ctx = createContext(loadForm(cluster), { now });
    const t = start(ctx, 20);
    await t.see('Cluster name');
    // Enter through every question, taking the defaults.
    for (let i = 0; i < 40 && !t.frame().includes('Submit'); i++) await t.press(KEY.enter);
    await t.see('Submit');
    const lines = () => t.frame().split('\n').length;
    expect(lines()).toBeLessThanOrEqual(20);
    await t.see(/↑ \d+ more/);
    await t.press(KEY.down); // wraps to the first field
    await t.see(/❯ Cluster name: demo/);
    await t.see(/↓ \d+ more/);
    expect(lines()).toBeLessThanOrEqual(20);
    await t.press(KEY.up); // back to Submit
    await t.press(KEY.enter);
    await t.finished();
    expect(t.out.done).toMatchObject({ name: 'demo', provider: 'aws' });
  });
});
