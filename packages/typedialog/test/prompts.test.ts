/** The cli backend on a terminal: @inquirer/prompts driven through stream context, as a person would type. */
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliBackend } from '../src/adapters/cli.js';
import { CancelledError } from '../src/core/backend.js';
import { ctxFor, field, oneSectionForm } from './helpers.js';

const FORM = oneSectionForm(
  'p',
  'P',
  field('name', 'text', {
    label: 'Name',
    required: true,
    'validation.pattern': '^[a-z]+$',
    'validation.message': 'lowercase letters only',
  }),
  field('pin', 'password', { label: 'PIN', 'validation.min_length': 4 }),
  field('plan', 'select', { label: 'Plan', options: ['free', 'pro'] }),
  field('extras', 'multi-select', { label: 'Extras', when: "plan == 'pro'", options: ['backup', 'support'] }),
  field('ok', 'confirm', { label: 'OK?', default: true }),
);

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean) {
  for (let i = 0; i < 100 && !pred(); i++) await tick(20);
}

function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {} });
  const output = new PassThrough();
  let screen = '';
  output.on('data', (d: Buffer) => {
    screen += d.toString();
  });
  return { input, output, screen: () => stripVTControlCharacters(screen) };
}

describe('cli backend on a terminal (@inquirer/prompts)', () => {
  // These tests play a person at a terminal; under CI the backend would (rightly) refuse to prompt.
  const ci = process.env.CI;
  beforeAll(() => {
    delete process.env.CI;
  });
  afterAll(() => {
    if (ci !== undefined) process.env.CI = ci;
  });

  it('validates inline with the engine, masks the password, follows conditions', async () => {
    const ctx = ctxFor(FORM);
    const t = terminal();
    const run = new CliBackend().execute(ctx, { input: t.input, output: t.output });
    const type = async (s: string) => {
      t.input.write(s);
      await tick();
    };
    await until(() => t.screen().includes('Name'));
    await type('Ada\r');
    await until(() => t.screen().includes('lowercase letters only'));
    expect(t.screen()).toContain('lowercase letters only');
    for (let i = 0; i < 3; i++) await type('\u007F');
    await type('ada\r');
    await until(() => t.screen().includes('PIN'));
    await type('12\r');
    await until(() => t.screen().includes('must be at least 4 characters'));
    expect(t.screen()).toContain('must be at least 4 characters');
    await type('\u007F\u007F');
    await type('1234\r');
    await until(() => t.screen().includes('Plan'));
    expect(t.screen()).toContain('****');
    expect(t.screen()).not.toContain('1234');
    await until(() => t.screen().includes('Plan'));
    await type('\u001B[B\r'); // pro
    await until(() => t.screen().includes('Extras'));
    await type(' \r'); // backup
    await until(() => t.screen().includes('OK?'));
    await type('\r'); // OK? default yes
    expect(await run).toEqual({ name: 'ada', pin: '1234', plan: 'pro', extras: ['backup'], ok: true });
  });

  it('turns Ctrl+C into a cancellation', async () => {
    const t = terminal();
    const run = new CliBackend().execute(ctxFor(FORM), { input: t.input, output: t.output });
    await until(() => t.screen().includes('Name'));
    t.input.write('\u0003');
    await expect(run).rejects.toBeInstanceOf(CancelledError);
  });
});
