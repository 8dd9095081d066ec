/** The tui's ink app under ink-testing-library: keys in, frames out, the submitted answers or the cancel. */
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { expect } from 'vitest';
import { FormApp } from '../src/adapters/tui/app.js';
import { checkAnswers, type FormContext } from '../src/core/context.js';

export const tick = (ms = 25) => new Promise((r) => setTimeout(r, ms));

export const KEY = {
  up: '\u001B[A',
  down: '\u001B[B',
  left: '\u001B[D',
  right: '\u001B[C',
  esc: '\u001B',
  enter: '\r',
  bs: '\u007F',
  ctrlD: '\u0004',
};

/** Starts the app; `rows` makes the terminal that short, `drafts` opens it on the review of those answers. */
export function startTui(ctx: FormContext, opts: { rows?: number; drafts?: Record<string, unknown> } = {}) {
  const out: { done?: Record<string, unknown>; cancelled?: boolean } = {};
  const app = render(
    createElement(FormApp, {
      ctx,
      ...(opts.drafts ? { initial: opts.drafts, reviewFirst: true } : {}),
      check: (v) => checkAnswers(ctx, v),
      onDone: (v) => {
        out.done = v;
      },
      onCancel: () => {
        out.cancelled = true;
      },
    }),
  );
  if (opts.rows) Object.defineProperty(app.stdout, 'rows', { value: opts.rows });
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      app.stdin.write(k);
      await tick();
    }
  };
  const frame = () => app.lastFrame() ?? '';
  /** Waits until the screen shows `text` (renders lag behind keys on a busy machine). */
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
