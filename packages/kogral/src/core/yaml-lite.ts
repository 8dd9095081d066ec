import { createRequire } from 'node:module';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;

/** The full YAML library, loaded on first use: most frontmatter never needs it (see parseLite). */
export function yamlLib(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

/**
 * A fast path for the frontmatter kogral writes itself: `key: scalar`, flow sequences of
 * scalars, and block sequences of flow maps of scalars. It returns undefined for anything
 * else, and the caller falls back to the full YAML parser; for what it accepts it gives the
 * same values as `yaml` (YAML 1.2 core schema). Parsing 10,000 small documents this way takes
 * tens of milliseconds instead of seconds.
 */

const RESERVED = /^(true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$/;
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const SPECIAL_NUM = /^([-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN|0o[0-7]+|0x[0-9a-fA-F]+)$/;

/** Characters a plain scalar may hold in block context (values) and in flow context (list items). */
const PLAIN_BLOCK = /^[A-Za-z0-9_./][\w .,/@()+'=&%:-]*$/;
const PLAIN_FLOW = /^[A-Za-z0-9_./][\w ./@()+'=&%:-]*$/;

function looksSpecial(s: string): boolean {
  return RESERVED.test(s) || INT.test(s) || FLOAT.test(s) || SPECIAL_NUM.test(s);
}

/** Only scalars starting like this can read as numbers, booleans or null. */
const MAYBE_SPECIAL = /^[-+.0-9tTfFnN~]/;

function plainOk(s: string, flow: boolean): boolean {
  if (s === '' || s !== s.trim()) return false;
  if (!(flow ? PLAIN_FLOW : PLAIN_BLOCK).test(s)) return false;
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) return false;
  return !(MAYBE_SPECIAL.test(s) && looksSpecial(s));
}

/** A string as a YAML scalar: plain when that reads back as the same string, else double-quoted. */
export function yamlString(s: string, flow = false): string {
  return plainOk(s, flow) ? s : JSON.stringify(s);
}

/** A scalar value (string, number, boolean, null) as YAML; undefined when it is not a scalar. */
export function yamlScalar(v: unknown, flow = false): string | undefined {
  if (typeof v === 'string') return yamlString(v, flow);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return undefined;
}

const FAIL = Symbol('fail');
type Scalar = string | number | boolean | null;

function readScalar(raw: string, flow: boolean): Scalar | typeof FAIL {
  const s = raw.trim();
  if (s.startsWith('"')) {
    // Only JSON-compatible double-quoted strings (what yamlString writes).
    if (!s.endsWith('"') || s.length < 2 || /\\[^"\\/bfnrtu]/.test(s)) return FAIL;
    try {
      const v = JSON.parse(s);
      return typeof v === 'string' ? v : FAIL;
    } catch {
      return FAIL;
    }
  }
  if (!MAYBE_SPECIAL.test(s)) return plainOk(s, flow) ? s : FAIL;
  if (RESERVED.test(s)) return /^[tT]/.test(s) ? true : /^[fF]/.test(s) ? false : null;
  if (INT.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : FAIL;
  }
  if (FLOAT.test(s)) return Number(s);
  if (SPECIAL_NUM.test(s)) return FAIL;
  return plainOk(s, flow) ? s : FAIL;
}

/** Splits `a, "b, c", d` at top-level commas; FAIL on nesting. */
function splitFlow(inner: string): string[] | typeof FAIL {
  const out: string[] = [];
  let cur = '';
  let inStr = false;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i] as string;
    if (inStr) {
      cur += c;
      if (c === '\\') {
        cur += inner[i + 1] ?? '';
        i++;
      } else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') {
      inStr = true;
      cur += c;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else if ('[]{}'.includes(c)) return FAIL;
    else cur += c;
  }
  if (inStr) return FAIL;
  if (cur.trim() !== '' || out.length > 0) out.push(cur);
  return out;
}

function readFlowSeq(s: string): Scalar[] | typeof FAIL {
  const parts = splitFlow(s.slice(1, -1));
  if (parts === FAIL) return FAIL;
  if (parts.length === 1 && (parts[0] as string).trim() === '') return [];
  const out: Scalar[] = [];
  for (const p of parts) {
    if (p.trim() === '') return FAIL;
    const v = readScalar(p, true);
    if (v === FAIL) return FAIL;
    out.push(v);
  }
  return out;
}

function readFlowMap(s: string): Record<string, Scalar> | typeof FAIL {
  const parts = splitFlow(s.slice(1, -1));
  if (parts === FAIL) return FAIL;
  const out: Record<string, Scalar> = {};
  for (const p of parts) {
    const m = /^\s*([A-Za-z_][\w-]*): (.*)$/.exec(p);
    if (!m) return FAIL;
    const v = readScalar(m[2] as string, true);
    if (v === FAIL || Object.hasOwn(out, m[1] as string)) return FAIL;
    out[m[1] as string] = v;
  }
  return out;
}

/** Parses what `yamlString`/`yamlScalar` and the node writer produce; undefined for anything else. */
export function parseLite(text: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const lines = text.split('\n');
  let listKey: string | undefined;
  for (const line of lines) {
    if (line.trim() === '') {
      if (line !== '') return undefined;
      continue;
    }
    if (line.startsWith('  - ')) {
      if (listKey === undefined) return undefined;
      const item = line.slice(4).trim();
      const arr = out[listKey] as unknown[];
      if (item.startsWith('{') && item.endsWith('}')) {
        const m = readFlowMap(item);
        if (m === FAIL) return undefined;
        arr.push(m);
      } else {
        const v = readScalar(item, false);
        if (v === FAIL) return undefined;
        arr.push(v);
      }
      continue;
    }
    const m = /^([A-Za-z_][\w-]*):( (.*))?$/.exec(line);
    if (!m) return undefined;
    const key = m[1] as string;
    if (Object.hasOwn(out, key) || key === '__proto__') return undefined;
    const raw = m[3];
    listKey = undefined;
    if (raw === undefined || raw === '') {
      out[key] = [];
      listKey = key;
      continue;
    }
    const val = raw.trim();
    if (val.startsWith('[')) {
      if (!val.endsWith(']')) return undefined;
      const seq = readFlowSeq(val);
      if (seq === FAIL) return undefined;
      out[key] = seq;
    } else if (val.startsWith('{') || val.startsWith("'") || val.startsWith('|') || val.startsWith('>')) {
      return undefined;
    } else {
      const v = readScalar(val, false);
      if (v === FAIL) return undefined;
      out[key] = v;
    }
  }
  // `key:` with nothing under it is null in YAML, not an empty list.
  for (const [k, v] of Object.entries(out))
    if (Array.isArray(v) && v.length === 0 && lineIsBare(lines, k)) out[k] = null;
  return out;
}

function lineIsBare(lines: string[], key: string): boolean {
  const i = lines.findIndex((l) => l === `${key}:` || l === `${key}: `);
  if (i < 0) return false;
  return !(lines[i + 1] ?? '').startsWith('  - ');
}
