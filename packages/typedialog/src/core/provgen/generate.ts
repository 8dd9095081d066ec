/**
 * prov-gen, steps 2 and 3: InfrastructureConfig → nunjucks template of the provider → Nickel files
 * (split on `#@file NAME` lines) → validated against schemas/ → only then written. The templates run with
 * autoescape off (HTML escaping would corrupt Nickel) and throwOnUndefined on (a missing value is an
 * error, not an empty string); strings go through `nickel_str`, which escapes for Nickel, not for JSON.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { assetPath } from '@stratumiops/shared/assets';
import { StratumError } from '@stratumiops/shared/errors';
import { nickelKey, nickelString, nickelTag, toNickel } from '../nickel-text.js';
import type { InfrastructureConfig, Provider } from './config.js';

/** The templates and schemas of this repository (used when no --templates / --schemas are given). */
export const BUILTIN_TEMPLATES = `${assetPath(new URL('../../../templates/prov-gen', import.meta.url), new URL('../../../../../templates/prov-gen', import.meta.url))}/`;
export const BUILTIN_SCHEMAS = `${assetPath(new URL('../../../schemas', import.meta.url), new URL('../../../../../schemas', import.meta.url), 'infrastructure.ncl')}/`;

/** The files prov-gen writes, and the order it lists them in. */
export const FILES = ['main.ncl', 'servers.ncl', 'networking.ncl', 'security.ncl'] as const;
const FILE_NAME = /^[a-z0-9][a-z0-9_-]*\.ncl$/;

export interface GeneratedFile {
  name: string;
  text: string;
}

export interface RenderOptions {
  templatesDir: string;
  form: { id: string; version: string };
}

/**
 * The tag the schemas' Provider contract accepts for a provider: the provider itself, else `local`
 * (hosts you run yourself), with a warning naming the schema change that would make it exact.
 */
const tagCache = new Map<string, Promise<{ tag: string; warning?: string }>>();

export function schemaProviderTag(provider: Provider, schemasDir: string): Promise<{ tag: string; warning?: string }> {
  const key = `${schemasDir}\0${provider}`;
  let hit = tagCache.get(key);
  if (!hit) {
    hit = probeProviderTag(provider, schemasDir);
    hit.catch(() => tagCache.delete(key));
    tagCache.set(key, hit);
  }
  return hit;
}

async function probeProviderTag(provider: Provider, schemasDir: string): Promise<{ tag: string; warning?: string }> {
  const nickel = await import('@stratumiops/nickel');
  const accepts = async (tag: string) => {
    try {
      await nickel.applyContract(tag, '(import "lib.ncl").Provider', { importPaths: [schemasDir] });
      return true;
    } catch (e) {
      if (e instanceof nickel.NickelError && e.kind === 'EvalError::BlameError') return false;
      throw new StratumError('validation', `cannot read the Provider contract of ${schemasDir}/lib.ncl`, {
        cause: e,
        hint: 'pass --schemas with the folder of infrastructure.ncl and lib.ncl',
      });
    }
  };
  if (await accepts(provider)) return { tag: provider };
  if (await accepts('local')) {
    return {
      tag: 'local',
      warning:
        `schemas/lib.ncl's Provider has no '${provider}: the servers say 'local and carry tags.cloud = "${provider}" ` +
        `(schema change needed: add '${provider} to lib.Provider)`,
    };
  }
  throw new StratumError('validation', `the schemas accept neither '${provider} nor 'local as a provider`);
}

const environments = new Map<string, Promise<import('nunjucks').Environment>>();

/** The nunjucks environment prov-gen renders with (one per folder, templates compiled once). */
function environment(templatesDir: string): Promise<import('nunjucks').Environment> {
  let env = environments.get(templatesDir);
  if (!env) {
    env = createEnvironment(templatesDir);
    environments.set(templatesDir, env);
  }
  return env;
}

/** Nickel filters, no HTML escaping, no silent undefined. */
async function createEnvironment(templatesDir: string) {
  const { default: nunjucks } = await import('nunjucks');
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templatesDir), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  const str = (v: unknown) => {
    if (typeof v === 'number' || typeof v === 'boolean') return nickelString(String(v));
    if (typeof v !== 'string') throw new Error(`nickel_str expects a string, got ${JSON.stringify(v)}`);
    return nickelString(v);
  };
  env.addFilter('nickel_str', str);
  env.addFilter('nickel_key', (v: unknown) => nickelKey(String(v)));
  env.addFilter('nickel_tag', (v: unknown) => nickelTag(String(v)));
  env.addFilter('nickel', (v: unknown, indent = 0) => toNickel(v, ' '.repeat(indent)));
  return env;
}

/** Splits rendered text on `#@file NAME` lines. */
export function splitFiles(text: string, template: string): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  let current: GeneratedFile | undefined;
  for (const line of text.split('\n')) {
    const m = /^#@file\s+(\S+)\s*$/.exec(line);
    if (m) {
      const name = m[1] as string;
      if (!FILE_NAME.test(name)) {
        throw new StratumError('validation', `template ${template} names a file '${name}' prov-gen will not write`, {
          hint: 'file names are plain names ending in .ncl (no folders)',
        });
      }
      if (files.some((f) => f.name === name)) {
        throw new StratumError('validation', `template ${template} starts file ${name} twice`);
      }
      current = { name, text: '' };
      files.push(current);
    } else if (current) current.text += `${line}\n`;
    else if (line.trim() !== '') {
      throw new StratumError('validation', `template ${template} writes text before its first '#@file NAME' line`);
    }
  }
  for (const f of files) f.text = `${f.text.trimEnd()}\n`;
  if (!files.some((f) => f.name === 'main.ncl')) {
    throw new StratumError('validation', `template ${template} produced no main.ncl`, {
      hint: "start each file with a line '#@file NAME.ncl'; main.ncl is the one validated and applied",
    });
  }
  return files.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
}

function order(name: string): number {
  const i = (FILES as readonly string[]).indexOf(name);
  return i < 0 ? FILES.length : i;
}

/** Renders the provider's template into files (not validated yet). */
export async function render(config: InfrastructureConfig, opts: RenderOptions): Promise<GeneratedFile[]> {
  const template = `${config.provider}.ncl.njk`;
  const path = join(opts.templatesDir, template);
  if (!existsSync(path)) {
    throw new StratumError('notFound', `no template ${template} in ${opts.templatesDir}`, {
      hint: `a --templates folder needs one <provider>.ncl.njk per provider`,
    });
  }
  const env = await environment(opts.templatesDir);
  let text: string;
  try {
    text = env.render(template, { config, form: opts.form, schemas: 'infrastructure.ncl' });
  } catch (e) {
    const msg = (e as Error).message.replace(/\s*\n\s*/g, ' ').trim();
    throw new StratumError('validation', `template ${template} failed: ${msg}`, {
      hint: 'every value a template prints must exist (throwOnUndefined); fix the template or the answers',
      details: { template: path },
    });
  }
  return splitFiles(text, template);
}

/**
 * Checks the files with the Nickel evaluator before anything is written: they are staged in a private
 * temporary folder, main.ncl is evaluated deeply with every schema contract applied, then the folder is removed.
 * Errors name each file as it would have been written (`outDir`/name).
 */
export async function validateFiles(files: GeneratedFile[], schemasDir: string, outDir: string): Promise<void> {
  const nickel = await import('@stratumiops/nickel');
  const stage = mkdtempSync(join(tmpdir(), 'typedialog-prov-gen-'));
  try {
    for (const f of files) writeFileSync(join(stage, f.name), f.text);
    const main = files.find((f) => f.name === 'main.ncl')?.text ?? '';
    for (const f of files) {
      // A part that main.ncl does not import is checked on its own (main's export checks the others).
      if (f.name === 'main.ncl' || main.includes(`import "${f.name}"`)) continue;
      await nickel.evaluateFile(join(stage, f.name), { importPaths: [schemasDir], mode: 'full' });
    }
    // Deep evaluation with every contract applied: what `prov validate` checks, without building the JSON text.
    await nickel.evaluateFile(join(stage, 'main.ncl'), { importPaths: [schemasDir], mode: 'full' });
  } catch (e) {
    if (!(e instanceof nickel.NickelError)) throw e;
    const fix = (s: string) => s.split(stage).join(outDir);
    const moved = <T extends { file: string } | undefined>(span: T): T =>
      span ? { ...span, file: fix(span.file) } : span;
    // The same error, with positions in the files as they would have been written.
    const shownErr = Object.assign(Object.create(Object.getPrototypeOf(e) as object) as typeof e, e, {
      span: moved(e.span),
      contractSpan: moved(e.contractSpan),
      message: fix(e.message),
    });
    const parse = e.kind.startsWith('ParseError') || e.kind.startsWith('TypecheckError');
    const what = parse
      ? 'the template produced invalid Nickel'
      : 'the generated configuration does not pass the schemas';
    throw new StratumError('validation', `${what}: ${shownErr.message}; nothing was written`, {
      details: nickel.nickelErrorJson(shownErr),
      display: `typedialog: ${what}; nothing was written\n${nickel.formatNickelError(shownErr)}`,
    });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

export function describe(f: GeneratedFile, path: string): WrittenFile {
  return {
    path,
    bytes: Buffer.byteLength(f.text),
    sha256: createHash('sha256').update(f.text).digest('hex'),
  };
}

export function shownPath(dir: string): string {
  const r = relative(process.cwd(), dir);
  return r === '' ? '.' : r.startsWith('..') ? dir : r;
}
