/**
 * One answer, every backend: the same input is accepted or refused, with the same message, whether it
 * comes from an answers file, piped lines (cli), keystrokes (tui) or a web form post.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StratumError } from '@stratumiops/shared/errors';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { afterAll, describe, expect, it } from 'vitest';
import { CliBackend } from '../src/adapters/cli.js';
import { FormApp } from '../src/adapters/tui/app.js';
import { startWebForm } from '../src/adapters/web/server.js';
import { checkAnswers, createContext, describeErrors, type FormContext } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import { now, tmp } from './helpers.js';

const dir = tmp();
writeFileSync(
  join(dir, 'parity.toml'),
  `[form]
id = "parity"
title = "Parity"
[[sections]]
id = "s"
[[sections.fields]]
id = "name"
type = "text"
required = true
validation.max_length = 12
validation.pattern = '^[a-z]+$'
validation.message = "lowercase letters only"
[[sections.fields]]
id = "age"
type = "number"
validation.min = 18
validation.max = 99
validation.step = 1
[[sections.fields]]
id = "start"
type = "date"
validation.min = "2020-01-01"
[[sections.fields]]
id = "hosts"
type = "list"
validation.max_items = 3
validation.pattern = '^[a-z.]+$'
[[sections.fields]]
id = "pin"
type = "password"
required = true
validation.min_length = 4
[output]
validation = "nickel://contract.ncl"
`,
);
writeFileSync(
  join(dir, 'contract.ncl'),
  `let NotRoot = std.contract.from_validator (fun v =>
  if v == "root" then 'Error { message = "root is reserved" } else 'Ok) in
{
  name | String | NotRoot,
  age | Number | optional,
  start | String | optional,
  hosts | Array String | optional,
  pin | String,
}
`,
);
const ctx: FormContext = createContext(loadForm(join(dir, 'parity.toml')), { now });

type Fields = 'name' | 'age' | 'start' | 'hosts' | 'pin';
const TEXT: Record<Fields, string> = {
  name: 'ada',
  age: '30',
  start: '2024-05-01',
  hosts: 'a.example, b.example',
  pin: '1234',
};
const VALUE: Record<Fields, unknown> = {
  name: 'ada',
  age: 30,
  start: '2024-05-01',
  hosts: ['a.example', 'b.example'],
  pin: '1234',
};
const ORDER: Fields[] = ['name', 'age', 'start', 'hosts', 'pin'];

interface Row {
  field: Fields;
  text: string;
  value: unknown;
  /** The message every backend shows, or null when the answer is accepted. */
  message: string | null;
}
const rows: Row[] = [
  { field: 'name', text: 'grace', value: 'grace', message: null },
  { field: 'name', text: 'Ada', value: 'Ada', message: 'lowercase letters only' },
  { field: 'name', text: '<b>&amp;</b>', value: '<b>&amp;</b>', message: 'lowercase letters only' },
  { field: 'name', text: '', value: '', message: 'is required' },
  { field: 'name', text: 'root', value: 'root', message: 'root is reserved' },
  { field: 'age', text: '17', value: 17, message: 'must be at least 18' },
  { field: 'age', text: '30.5', value: 30.5, message: 'must be a whole number' },
  { field: 'age', text: 'abc', value: 'abc', message: 'must be a number' },
  { field: 'age', text: '', value: undefined, message: null },
  { field: 'start', text: '2019-12-31', value: '2019-12-31', message: 'must be at least 2020-01-01' },
  { field: 'start', text: '2021-02-30', value: '2021-02-30', message: 'must be a real date written YYYY-MM-DD' },
  {
    field: 'hosts',
    text: 'a, B',
    value: ['a', 'B'],
    message: 'item 2: does not match the expected format (^[a-z.]+$)',
  },
  { field: 'hosts', text: 'a,b,c,d', value: ['a', 'b', 'c', 'd'], message: 'allows at most 3 items' },
  { field: 'pin', text: '12', value: '12', message: 'must be at least 4 characters' },
];

type Outcome = { message: string | null };

const viaAnswers = async (row: Row): Promise<Outcome> => {
  const r = await checkAnswers(ctx, { ...VALUE, [row.field]: row.value });
  const e = describeErrors(ctx, r.errors).find((x) => x.field === row.field);
  expect(r.errors.length).toBe(e ? 1 : 0);
  return { message: e?.message ?? null };
};

const texts = (row: Row) => ORDER.map((f) => (f === row.field ? row.text : TEXT[f]));

const viaCli = async (row: Row): Promise<Outcome> => {
  const input = Readable.from([`${texts(row).join('\n')}\n`]);
  try {
    await new CliBackend().execute(ctx, { input });
    return { message: null };
  } catch (e) {
    if (!(e instanceof StratumError)) throw e;
    const errors = e.details?.errors as { field: string; message: string }[];
    expect(errors).toHaveLength(1);
    return { message: errors.find((x) => x.field === row.field)?.message ?? `wrong field: ${errors[0]?.field}` };
  }
};

const tick = (ms = 25) => new Promise((r) => setTimeout(r, ms));

const viaTui = async (row: Row): Promise<Outcome> => {
  let done: unknown;
  const app = render(
    createElement(FormApp, {
      ctx,
      check: (v) => checkAnswers(ctx, v),
      onDone: (v) => {
        done = v;
      },
      onCancel: () => {},
    }),
  );
  const frame = () => app.lastFrame() ?? '';
  // Renders lag behind keys on a busy machine: wait for what the screen must show next.
  const waitFor = async (pred: () => boolean) => {
    for (let i = 0; i < 150 && !pred(); i++) await tick(20);
  };
  try {
    const all = texts(row);
    for (const [i, text] of all.entries()) {
      await waitFor(() => frame().includes(`question ${i + 1} of ${all.length}`));
      app.stdin.write('\u0015'); // Ctrl+U: clear what the field starts with
      await tick(5);
      if (text) app.stdin.write(text);
      await tick(5);
      app.stdin.write('\r');
      const next = i + 1 < all.length ? `question ${i + 2} of ${all.length}` : 'Review your answers';
      await waitFor(() => frame().includes('✖') || frame().includes(next));
      const error = /✖ (.*)/.exec(frame());
      if (error) return { message: error[1]?.trim() ?? '' };
    }
    // The review screen checks the contract before it offers the submit.
    await waitFor(() => frame().includes('✖') || frame().includes('❯ Submit'));
    const review = /✖ (.*)/.exec(frame());
    if (review) return { message: review[1]?.trim() ?? '' };
    app.stdin.write('\r');
    await waitFor(() => done !== undefined);
    expect(done).toBeDefined();
    return { message: null };
  } finally {
    app.unmount();
  }
};

const sessions: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of sessions) await s.close().catch(() => {});
});

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

const viaWeb = async (row: Row): Promise<Outcome> => {
  const session = await startWebForm(ctx, {});
  sessions.push(session);
  const page = await (await fetch(session.url)).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const body = new URLSearchParams({ _csrf: csrf });
  texts(row).forEach((t, i) => {
    body.set(ORDER[i] as string, (ORDER[i] === 'hosts' ? t.replace(/, ?/g, '\n') : t) as string);
  });
  const res = await fetch(session.url, { method: 'POST', body });
  const html = await res.text();
  if (res.status === 200) {
    expect(await session.result).toMatchObject({ name: expect.any(String) });
    return { message: null };
  }
  expect(res.status).toBe(422);
  const m = new RegExp(`id="e-${row.field}" role="alert">([^<]*)<`).exec(html);
  return { message: m?.[1] ? unescapeHtml(m[1]) : 'no message on the page' };
};

describe('answers × backends: the same answer gets the same verdict everywhere', () => {
  it.each(rows.map((r) => [`${r.field} = ${JSON.stringify(r.text)}`, r] as const))('%s', async (_name, row) => {
    const got = {
      answers: await viaAnswers(row),
      cli: await viaCli(row),
      tui: await viaTui(row),
      web: await viaWeb(row),
    };
    const want = { message: row.message };
    expect(got).toEqual({ answers: want, cli: want, tui: want, web: want });
  });
});
