import { createRequire } from 'node:module';
import { parse as parseToml } from 'smol-toml';
import type { Document, Node as YamlNode } from 'yaml';
import type { Recovery } from './diagnostics.js';
import { NickelError } from './errors.js';
import { type Evaluator, frozen } from './eval.js';
import { Num } from './number.js';
import { byteOrder, fieldNotExported, formatPath, Thunk, typeName, type Value } from './values.js';

/** A JSON-like tree with exact numbers, after deep evaluation: what every export format starts from. */
export type Plain = null | boolean | string | Num | Plain[] | { [k: string]: Plain };

/** Deeply evaluates `v` into a Plain tree, skipping not_exported and undefined optional fields. */
export function toPlain(ev: Evaluator, v: Value, path: string[] = [], recover?: Recovery): Plain {
  return plainAt(ev, v, [...path], recover);
}

/** Forces one member; when recovering, an error is recorded and the member is left out (undefined). */
function member(ev: Evaluator, t: Thunk, path: string[], recover: Recovery | undefined): Value | undefined {
  if (!recover) return ev.forceAt(t, path);
  try {
    return ev.forceAt(t, path);
  } catch (e) {
    if (!(e instanceof NickelError)) throw e;
    recover.add(e);
    return undefined;
  }
}

/** `path` is one mutable stack for the whole walk: it is copied only into an error. */
function plainAt(ev: Evaluator, v: Value, path: string[], recover?: Recovery): Plain {
  switch (v.k) {
    case 'null':
      return null;
    case 'bool':
    case 'str':
      return v.v;
    case 'num':
      return v.v;
    case 'enum':
      if (!v.arg) return v.tag;
      return nonSerializable(`the enum variant '${v.tag}`, [...path], recover);
    case 'array': {
      const out: Plain[] = new Array(v.items.length);
      for (let i = 0; i < v.items.length; i++) {
        path.push(`[${i}]`);
        const item = member(ev, v.items[i] as Thunk, path, recover);
        out[i] = item === undefined ? null : plainAt(ev, item, path, recover);
        path.pop();
      }
      return out;
    }
    case 'record': {
      const out: { [k: string]: Plain } = {};
      for (const n of ev.fieldNames(v).sort(byteOrder)) {
        const f = v.template.get(n);
        if (f && fieldNotExported(f)) continue;
        path.push(n);
        const field = member(ev, ev.fieldThunk(v, n), path, recover);
        out[n] = field === undefined ? null : plainAt(ev, field, path, recover);
        path.pop();
      }
      return out;
    }
    default:
      return nonSerializable(`a ${typeName(v)}`, [...path], recover);
  }
}

function nonSerializable(what: string, path: string[], recover?: Recovery): null {
  const e = new NickelError('EvalError::NonSerializable', `non serializable term: ${what} cannot be exported`, {
    fieldPath: path,
    notes: path.length ? [`When exporting field \`${formatPath(path)}\``] : [],
  });
  if (!recover) throw e;
  recover.add(e);
  return null;
}

export function serialize(ev: Evaluator, format: string, v: Value): string {
  const plain = toPlain(ev, v);
  switch (format) {
    case 'Json':
      return toJson(plain);
    case 'Yaml':
      return toYaml(plain);
    case 'YamlDocuments':
      if (!Array.isArray(plain))
        throw new NickelError('EvalError::Other', "'YamlDocuments needs an array (one document per element)");
      return plain.map((d) => toYaml(d)).join('');
    case 'Toml':
      return toToml(plain);
    case 'Text':
      if (typeof plain === 'string') return plain;
      throw new NickelError('EvalError::Other', 'the text format can only export a string');
    default:
      throw new NickelError('EvalError::Other', `unknown format ${format}`);
  }
}

// ------------------------------------------------------------------ JSON (serde_json's pretty printer)

export function toJson(p: Plain, indent = ''): string {
  if (p === null) return 'null';
  if (typeof p === 'boolean') return String(p);
  if (typeof p === 'string') return JSON.stringify(p);
  if (p instanceof Num) return p.toExportJson();
  const inner = `${indent}  `;
  if (Array.isArray(p)) {
    if (p.length === 0) return '[]';
    return `[\n${p.map((x) => inner + toJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(p);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${toJson(p[k] as Plain, inner)}`).join(',\n')}\n${indent}}`;
}

// ------------------------------------------------------------------ YAML (block style, like serde_yaml)

export function toYaml(p: Plain): string {
  return `---\n${yamlNode(p, '')}\n`.replace(/\n\n$/, '\n');
}

function yamlScalar(p: Plain): string | undefined {
  if (p === null) return 'null';
  if (typeof p === 'boolean') return String(p);
  if (p instanceof Num) return p.toExportJson();
  if (typeof p === 'string') return yamlString(p);
  if (Array.isArray(p) && p.length === 0) return '[]';
  if (!Array.isArray(p) && typeof p === 'object' && Object.keys(p).length === 0) return '{}';
  return undefined;
}

function yamlString(s: string): string {
  const plainOk =
    s !== '' &&
    !/^[\s]|[\s]$/.test(s) &&
    !/^[-?:,[\]{}#&*!|>'"%@`~]/.test(s) &&
    !/[:#]\s|\s#|:$|[\n\r\t]/.test(s) &&
    !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(s) &&
    !/^[-+]?(\.?[0-9]|\.(inf|nan))/i.test(s);
  return plainOk ? s : JSON.stringify(s);
}

function yamlNode(p: Plain, indent: string): string {
  const scalar = yamlScalar(p);
  if (scalar !== undefined) return scalar;
  if (Array.isArray(p)) {
    return p
      .map((x) => {
        const s = yamlScalar(x);
        if (s !== undefined) return `${indent}- ${s}`;
        const body = yamlNode(x, `${indent}  `);
        return `${indent}- ${body.slice(indent.length + 2)}`;
      })
      .join('\n');
  }
  const obj = p as { [k: string]: Plain };
  return Object.keys(obj)
    .map((k) => {
      const v = obj[k] as Plain;
      const key = yamlString(k);
      const s = yamlScalar(v);
      if (s !== undefined) return `${indent}${key}: ${s}`;
      if (Array.isArray(v)) return `${indent}${key}:\n${yamlNode(v, indent)}`;
      return `${indent}${key}:\n${yamlNode(v, `${indent}  `)}`;
    })
    .join('\n');
}

// ------------------------------------------------------------------ TOML

export function toToml(p: Plain): string {
  if (p === null || typeof p !== 'object' || Array.isArray(p) || p instanceof Num) {
    throw new NickelError('EvalError::Other', 'TOML export needs a record at the top level');
  }
  const lines: string[] = [];
  emitTable(p, [], lines);
  return `${lines.join('\n')}\n`;
}

function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}

function tomlValue(p: Plain): string {
  if (p === null) throw new NickelError('EvalError::Other', 'TOML has no null value');
  if (typeof p === 'boolean') return String(p);
  if (typeof p === 'string') return JSON.stringify(p);
  if (p instanceof Num) return p.toExportJson();
  if (Array.isArray(p)) return `[${p.map(tomlValue).join(', ')}]`;
  return `{ ${Object.entries(p)
    .map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`)
    .join(', ')} }`;
}

const isTable = (p: Plain): p is { [k: string]: Plain } =>
  p !== null && typeof p === 'object' && !Array.isArray(p) && !(p instanceof Num);

function emitTable(t: { [k: string]: Plain }, path: string[], lines: string[]): void {
  const subTables: [string, { [k: string]: Plain }][] = [];
  for (const [k, v] of Object.entries(t)) {
    if (isTable(v)) subTables.push([k, v]);
    else lines.push(`${tomlKey(k)} = ${tomlValue(v)}`);
  }
  for (const [k, v] of subTables) {
    if (lines.length > 0) lines.push('');
    lines.push(`[${[...path, k].map(tomlKey).join('.')}]`);
    emitTable(v, [...path, k], lines);
  }
}

// ------------------------------------------------------------------ parsing data into values

/** JSON, YAML and TOML data as Nickel values; numbers become the simplest rational with the same f64. */
export function fromJs(x: unknown): Value {
  if (x === null || x === undefined) return { k: 'null' };
  if (typeof x === 'boolean') return { k: 'bool', v: x };
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) throw new NickelError('EvalError::Other', `the number ${x} cannot be represented`);
    return { k: 'num', v: Num.fromF64(x) };
  }
  if (typeof x === 'bigint') return { k: 'num', v: Num.of(x) };
  if (typeof x === 'string') return { k: 'str', v: x };
  if (x instanceof Date) return { k: 'str', v: x.toISOString() };
  if (Array.isArray(x)) return { k: 'array', items: x.map((e) => Thunk.of(fromJs(e))) };
  if (typeof x === 'object') {
    const m = new Map<string, Thunk>();
    for (const [k, v] of Object.entries(x as object)) m.set(k, Thunk.of(fromJs(v)));
    return frozen(m);
  }
  return { k: 'str', v: String(x) };
}

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;

/** The YAML parser, loaded when a YAML file or string is first read: most configs never do. */
function yamlLib(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

/** YAML to values, keeping numbers beyond f64 (e.g. 1e309) exact from their source text. */
function fromYaml(doc: Document, node: unknown): Value {
  const { isAlias, isMap, isScalar, isSeq } = yamlLib();
  if (node === null || node === undefined) return { k: 'null' };
  if (isAlias(node)) return fromYaml(doc, node.resolve(doc));
  if (isMap(node)) {
    const m = new Map<string, Thunk>();
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      m.set(k, Thunk.of(fromYaml(doc, pair.value)));
    }
    return frozen(m);
  }
  if (isSeq(node)) return { k: 'array', items: node.items.map((i) => Thunk.of(fromYaml(doc, i))) };
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'number' && (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v)))) {
      const raw = (node as YamlNode & { srcToken?: { source?: string } }).srcToken?.source;
      if (raw && Num.isNumberLiteral(raw.trim())) return { k: 'num', v: Num.parseNumberString(raw.trim()) };
    }
    return fromJs(v);
  }
  return fromJs(node);
}

export function parseData(format: string, text: string, file = '<string>'): Value {
  try {
    switch (format) {
      case 'Json':
        return fromJs(JSON.parse(text));
      case 'Yaml':
      case 'YamlDocuments': {
        const docs = yamlLib().parseAllDocuments(text, { keepSourceTokens: true });
        if (!Array.isArray(docs)) return fromJs(null);
        for (const d of docs) if (d.errors.length > 0) throw d.errors[0];
        if (docs.length === 0) return fromJs(null);
        if (docs.length === 1 && format === 'Yaml')
          return fromYaml(docs[0] as Document, (docs[0] as Document).contents);
        return { k: 'array', items: docs.map((d) => Thunk.of(fromYaml(d, d.contents))) };
      }
      case 'Toml':
        return fromJs(parseToml(text));
      case 'Text':
        return { k: 'str', v: text };
    }
  } catch (e) {
    if (e instanceof NickelError) throw e;
    throw new NickelError(
      'ImportError::ParseError',
      `cannot parse ${file} as ${format}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  throw new NickelError('EvalError::Other', `unknown format ${format}`);
}

export function deserialize(format: string, text: string): Value {
  try {
    return parseData(format, text);
  } catch (e) {
    if (e instanceof NickelError && e.kind === 'ImportError::ParseError') {
      throw new NickelError('EvalError::Other', e.message);
    }
    throw e;
  }
}
