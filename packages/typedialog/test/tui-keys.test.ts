/** The tui's editing keys, its counter and its scrolling review, through ink-testing-library. */
import { describe, expect, it } from 'vitest';
import { createContext } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import { cluster, ctxFor, field, now, oneSectionForm } from './helpers.js';
import { KEY, startTui } from './tui-harness.js';

const FORM = oneSectionForm(
  'k',
  'Keys',
  field('name', 'text', { label: 'Name' }),
  field('cloud', 'confirm', { label: 'Cloud', default: false }),
  field('region', 'text', { label: 'Region', when: 'cloud' }),
  field('note', 'text', { label: 'Note' }),
);

describe('tui keys', () => {
  it('several backspaces in one read, ←/→ to move the caret, Ctrl+U in a chunk', async () => {
    const t = startTui(ctxFor(FORM));
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
    const t = startTui(ctxFor(FORM));
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
    const t = startTui(ctxFor(FORM));
    await t.see('question 1 of 4');
    await t.press('ada', KEY.enter);
    await t.see('question 2 of 4');
    await t.press(KEY.enter); // cloud: no (the default)
    await t.see('question 3 of 3');
    expect(t.frame()).toContain('Note');
  });

  it('the review scrolls on a short terminal: a window around the cursor with what is above and below', async () => {
    const ctx = createContext(loadForm(cluster), { now });
    const t = startTui(ctx, { rows: 20 });
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
