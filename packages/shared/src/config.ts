import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { notFoundError, usageError, validationError } from './errors.js';
import * as z from './zod.js';

/** Settings every tool has, merged into its schema by `toolConfigSchema`. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const logFormats = ['text', 'json'] as const;
const logSchema = z
  .strictObject({
    level: z.enum(logLevels).default('warn'),
    format: z.enum(logFormats).default('text'),
  })
  .prefault({});

/** A tool's config schema: its own sections plus `log`. Every key must have a default. */
export function toolConfigSchema<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject({ ...shape, log: logSchema });
}

export interface ConfigSpec {
  tool: string;
  schema: z.ZodObject;
  /** Environment variable → dotted key. `<TOOL>_LOG_LEVEL` and `<TOOL>_LOG_FORMAT` are added. */
  env?: Record<string, string>;
  /** Project file looked up from the working directory upwards, e.g. `svault.toml`. */
  projectFile: string;
}

export type SourceKind = 'default' | 'user' | 'project' | 'env' | 'flag';
export interface ConfigSource {
  kind: SourceKind;
  /** The file or variable the value came from. */
  where?: string;
}
export interface LoadedConfig<T = Record<string, unknown>> {
  values: T;
  sources: Record<string, ConfigSource>;
  files: { user?: string; project?: string };
}

/** A flag that sets a config key, e.g. `--log-level` → `log.level`. */
export interface FlagSetting {
  key: string;
  flag: string;
  value: unknown;
}

export interface LoadOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags; undefined values are ignored. */
  flags?: FlagSetting[];
  /** An explicit project file (`--config`), instead of the upward search. */
  file?: string;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

function flatten(obj: Plain, prefix = '', out: Plain = {}): Plain {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isPlain(v) && Object.keys(v).length > 0) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

function setPath(obj: Plain, key: string, value: unknown): void {
  const parts = key.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isPlain(cur[p])) cur[p] = {};
    cur = cur[p] as Plain;
  }
  cur[parts.at(-1) as string] = value;
}

export function userConfigPath(tool: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'stratumiops', `${tool}.toml`);
}

function findUp(start: string, rel: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, rel);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readToml(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  try {
    return parseToml(text) as Plain;
  } catch (e) {
    const where = e instanceof TomlError ? `${file}:${e.line}:${e.column}` : file;
    const first = String((e as Error).message).split('\n')[0];
    throw usageError(`malformed config file ${where}: ${first}`, { hint: 'fix the TOML syntax' });
  }
}

/** The zod type at a dotted key, with defaults and optionals unwrapped. */
function leafType(schema: z.ZodType, key: string): string | undefined {
  let cur: z.ZodType | undefined = schema;
  for (const part of key.split('.')) {
    cur = unwrap(cur);
    const shape = (cur as z.ZodObject | undefined)?.shape as Record<string, z.ZodType> | undefined;
    cur = shape?.[part];
    if (!cur) return undefined;
  }
  return (unwrap(cur) as { def?: { type?: string } } | undefined)?.def?.type;
}

function unwrap(t: z.ZodType | undefined): z.ZodType | undefined {
  let cur = t as { def?: { type?: string; innerType?: z.ZodType } } | undefined;
  while (cur?.def && ['default', 'prefault', 'optional', 'nullable'].includes(cur.def.type ?? '')) {
    cur = cur.def.innerType as typeof cur;
  }
  return cur as z.ZodType | undefined;
}

function coerceEnv(raw: string, type: string | undefined): unknown {
  if (type === 'number' || type === 'int') return raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  if (type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    return raw;
  }
  if (type === 'array')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}

/**
 * Effective configuration: defaults < user file < project file < environment < flags,
 * validated with the tool's zod schema, with the source of every value.
 */
export function loadConfig<T = Record<string, unknown>>(spec: ConfigSpec, opts: LoadOptions = {}): LoadedConfig<T> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const prefix = spec.tool.toUpperCase();
  const envMap: Record<string, string> = {
    [`${prefix}_LOG_LEVEL`]: 'log.level',
    [`${prefix}_LOG_FORMAT`]: 'log.format',
    ...spec.env,
  };

  const layers: { source: ConfigSource; values: Plain }[] = [];
  layers.push({ source: { kind: 'default' }, values: flatten(spec.schema.parse({}) as Plain) });

  const files: LoadedConfig['files'] = {};
  const userFile = userConfigPath(spec.tool, env);
  if (existsSync(userFile)) {
    files.user = userFile;
    layers.push({ source: { kind: 'user', where: userFile }, values: flatten(readToml(userFile)) });
  }
  let projectFile: string | undefined;
  if (opts.file) {
    projectFile = resolve(cwd, opts.file);
    if (!existsSync(projectFile)) throw notFoundError(`config file not found: ${opts.file}`);
  } else projectFile = findUp(cwd, spec.projectFile);
  if (projectFile) {
    files.project = projectFile;
    layers.push({ source: { kind: 'project', where: projectFile }, values: flatten(readToml(projectFile)) });
  }
  for (const [name, key] of Object.entries(envMap)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    layers.push({
      source: { kind: 'env', where: name },
      values: { [key]: coerceEnv(raw, leafType(spec.schema, key)) },
    });
  }
  for (const { key, flag, value } of opts.flags ?? []) {
    if (value === undefined) continue;
    layers.push({ source: { kind: 'flag', where: `--${flag}` }, values: { [key]: value } });
  }

  const merged: Plain = {};
  const sources: Record<string, ConfigSource> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      setPath(merged, key, value);
      sources[key] = layer.source;
    }
  }
  const parsed = spec.schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? (issue.keys as string[]) : [];
    const base = issue.path.join('.');
    const key = keys.length > 0 ? (base ? `${base}.${keys[0]}` : String(keys[0])) : base;
    const from = sourceOf(layers, key);
    const what = keys.length > 0 ? `unknown setting '${key}'` : `'${key}': ${issue.message}`;
    throw validationError(`invalid config: ${what}${from ? ` (from ${describeSource(from)})` : ''}`, {
      hint: `run '${spec.tool} config' to see every setting and its source`,
      details: { key, source: from },
    });
  }
  return { values: parsed.data as T, sources, files };
}

function sourceOf(layers: { source: ConfigSource; values: Plain }[], key: string): ConfigSource | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (!layer) continue;
    if (Object.keys(layer.values).some((k) => k === key || k.startsWith(`${key}.`))) return layer.source;
  }
  return undefined;
}

export function describeSource(s: ConfigSource): string {
  return s.where ? `${s.kind} ${s.where}` : s.kind;
}

const secretKey = /(token|password|secret|passphrase|private_?key|api_?key)$/i;

/** `postgres://app:hunter2@db/x` → `postgres://app:********@db/x`: connection URLs carry passwords. */
function maskUrlPassword(v: unknown): unknown {
  return typeof v === 'string' ? v.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/i, '$1********@') : v;
}

/** Rows for `<tool> config`: every key, its effective value (secrets masked) and source. */
export function describeConfig(loaded: LoadedConfig): { key: string; value: unknown; source: string }[] {
  const flat = flatten(loaded.values as Plain);
  return Object.keys(flat)
    .sort()
    .map((key) => ({
      key,
      value: secretKey.test(key) && flat[key] ? '********' : maskUrlPassword(flat[key]),
      source: describeSource(loaded.sources[key] ?? { kind: 'default' }),
    }));
}
