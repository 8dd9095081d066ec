import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, type RunResult, runBin, sandbox } from '../../../test/run-bin.js';
import { createContext, type FormContext } from '../src/core/context.js';
import { parseForm } from '../src/core/form.js';

export const repo = join(import.meta.dirname, '..', '..', '..');
export const forms = join(repo, 'examples', 'forms');
export const onboarding = join(forms, 'employee_onboarding.toml');
export const cluster = join(forms, 'cluster.toml');
export const bin = binPath('typedialog');

/** A fixed clock: `today` is 2026-03-15 in every test. */
export const now = () => new Date(2026, 2, 15, 12, 0, 0);

export function tmp(prefix = 'typedialog-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function ctxFor(toml: string, locale = 'en'): FormContext {
  return createContext(parseForm(toml), { locale, now });
}

/** One `[[sections.fields]]` table: its id and type, then each property as `key = value` (dotted keys: `validation.min`). */
export function field(
  id: string,
  type: string,
  props: Record<string, string | number | boolean | string[]> = {},
): string {
  const lines = ['[[sections.fields]]', `id = "${id}"`, `type = "${type}"`];
  for (const [k, v] of Object.entries(props)) lines.push(`${k} = ${JSON.stringify(v)}`);
  return lines.join('\n');
}

/** A form's TOML with one section holding `fields` (made with `field`), in order. */
export const oneSectionForm = (id: string, title: string, ...fields: string[]): string =>
  `\n[form]\nid = "${id}"\ntitle = "${title}"\n[[sections]]\nid = "s"\n${fields.join('\n')}\n`;

/** Runs the real binary as a user would (test/run-bin.ts) in its own HOME, from the repo root unless `cwd`. */
export function typedialog(
  args: string[],
  opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return runBin('typedialog', args, {
    cwd: opts.cwd ?? repo,
    env: { ...sandbox().env, ...opts.env },
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}

/** A form with one field of each type, and a condition. */
export const ALL_TYPES = `
[form]
id = "all_types"
title = "All types"

[[sections]]
id = "main"
title = "Main"

[[sections.fields]]
id = "name"
type = "text"
required = true
validation.min_length = 2
validation.max_length = 10
validation.pattern = '^[a-z]+$'
validation.message = "lowercase letters only"

[[sections.fields]]
id = "secret"
type = "password"
validation.min_length = 8

[[sections.fields]]
id = "count"
type = "number"
validation.min = 1
validation.max = 10
validation.step = 0.5

[[sections.fields]]
id = "agree"
type = "confirm"
required = true

[[sections.fields]]
id = "color"
type = "select"
options = ["red", { value = "green", label = "Green" }, "blue"]

[[sections.fields]]
id = "tags"
type = "multi-select"
display_mode = "grid"
options = ["a", "b", "c"]
validation.max_items = 2

[[sections.fields]]
id = "day"
type = "date"
default = "today"
validation.min = "2020-01-01"
validation.max = "today"

[[sections.fields]]
id = "bio"
type = "editor"
validation.max_length = 50

[[sections.fields]]
id = "hosts"
type = "list"
validation.min_items = 2
validation.pattern = '^[a-z0-9.-]+$'

[[sections.fields]]
id = "shade"
type = "select"
required = true
when = "color == 'green' || tags contains 'c'"
options = ["light", "dark"]
`;
