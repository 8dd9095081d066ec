import { invalid } from './errors.js';
import { parseDuration } from './fields.js';
import { HclError, type HclItem, type HclValue, hclToPlain, parseHcl } from './hcl.js';

/**
 * Vault's ACL policy language (HCL or JSON), as Vault evaluates it:
 *
 * - `path "<pattern>" { capabilities = [...] }`; a pattern ending in `*` is a prefix, a `+`
 *   segment matches any one segment; an exact pattern beats every other, otherwise the most
 *   specific match wins (Vault's priority rules, see `morePrecise`). Only that one rule counts.
 * - The same pattern in several policies of a token is merged: capabilities added up, `deny`
 *   replacing everything, parameter lists combined.
 * - `required_parameters`, `allowed_parameters`, `denied_parameters` restrict the request's
 *   fields on read, create, update and patch; `min_wrapping_ttl`/`max_wrapping_ttl` require a
 *   wrapped response within bounds.
 * - Templated patterns (`{{identity.entity.aliases.<mount accessor>.name}}`) are filled in per
 *   token from the login that issued it; a template that cannot be filled in leaves the path
 *   out, as Vault does.
 */

const CAP = {
  deny: 1,
  create: 2,
  read: 4,
  update: 8,
  delete: 16,
  list: 32,
  sudo: 64,
  patch: 128,
  subscribe: 256,
  recover: 512,
} as const;
export type VaultCapability = keyof typeof CAP;
const LEGACY: Record<string, VaultCapability[]> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['read', 'list', 'create', 'update', 'delete'],
  sudo: ['read', 'list', 'create', 'update', 'delete', 'sudo'],
};
const PATH_KEYS = new Set([
  'comment',
  'policy',
  'capabilities',
  'allowed_parameters',
  'denied_parameters',
  'required_parameters',
  'min_wrapping_ttl',
  'max_wrapping_ttl',
  'mfa_methods',
  'control_group',
  'subscribe_event_types',
]);

export interface Permissions {
  caps: number;
  /** Lowercased parameter → allowed values ([] means any value). */
  allowed?: Map<string, unknown[]>;
  denied?: Map<string, unknown[]>;
  required?: string[];
  minWrap?: number;
  maxWrap?: number;
}

export interface PathRule {
  pattern: string;
  perms: Permissions;
  templated: boolean;
}

/** Parses a policy (HCL or JSON); anything wrong is a 400 reading like Vault's. */
export function parseVaultPolicy(text: string): PathRule[] {
  let items: HclItem[];
  try {
    items = text.trimStart().startsWith('{') ? jsonItems(text) : parseHcl(text);
  } catch (e) {
    if (e instanceof HclError || e instanceof SyntaxError) throw invalid(`failed to parse policy: ${e.message}`);
    throw e;
  }
  try {
    return pathRules(items);
  } catch (e) {
    if (e instanceof HclError) throw invalid(`failed to parse policy: ${e.message}`);
    throw e;
  }
}

/**
 * Whether a policy text is Vault's language (HCL or JSON) rather than Cedar: Cedar statements
 * start with `permit`, `forbid` or an annotation; a text of comments only is left to Cedar (which
 * refuses it as empty).
 */
export function looksLikeVaultPolicy(text: string): boolean {
  const body = text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/^\s*(?:#|\/\/).*$/gm, ' ')
    .trimStart();
  return body !== '' && !/^(?:permit|forbid)\b|^@/.test(body);
}

function jsonItems(text: string): HclItem[] {
  const doc = JSON.parse(text) as unknown;
  const v = fromJson(doc, 0);
  if (v.kind !== 'object') throw new HclError('At 1:1: a JSON policy must be an object');
  return v.items;
}

function fromJson(v: unknown, depth: number): HclValue {
  if (depth > 32) throw new HclError('At 1:1: nesting deeper than 32 levels');
  if (typeof v === 'string') return { kind: 'string', value: v, line: 1 };
  if (typeof v === 'number') return { kind: 'number', value: v, line: 1 };
  if (typeof v === 'boolean') return { kind: 'bool', value: v, line: 1 };
  if (Array.isArray(v)) return { kind: 'list', items: v.map((x) => fromJson(x, depth + 1)), line: 1 };
  if (v && typeof v === 'object') {
    return {
      kind: 'object',
      items: Object.entries(v).map(([k, x]) => ({ keys: [k], value: fromJson(x, depth + 1), line: 1 })),
      line: 1,
    };
  }
  throw new HclError('At 1:1: null is not a valid value');
}

/** `path "p" {..}`, `path = { "p" = {..} }` and JSON's `"path": [{"p": {..}}]` all name rules. */
function pathBlocks(items: HclItem[]): { pattern: string; body: HclItem[]; line: number }[] {
  const out: { pattern: string; body: HclItem[]; line: number }[] = [];
  const addObject = (v: HclValue, prefix: string[]) => {
    if (v.kind === 'list') {
      for (const x of v.items) addObject(x, prefix);
      return;
    }
    if (v.kind !== 'object') throw new HclError(`invalid key "path" on line ${v.line}`);
    if (prefix.length === 1) {
      out.push({ pattern: prefix[0] as string, body: v.items, line: v.line });
      return;
    }
    for (const it of v.items) addObject(it.value, it.keys);
  };
  for (const it of items) {
    const [head, ...rest] = it.keys;
    if (head === 'name') continue;
    if (head !== 'path') throw new HclError(`invalid key "${head}" on line ${it.line}`);
    if (rest.length > 1) throw new HclError(`invalid key "path" on line ${it.line}`);
    addObject(it.value, rest);
  }
  return out;
}

function pathRules(items: HclItem[]): PathRule[] {
  const rules: PathRule[] = [];
  for (const block of pathBlocks(items)) {
    const pattern = block.pattern.replace(/^\/+/, '');
    const where = `path ${JSON.stringify(pattern)}`;
    const perms: Permissions = { caps: 0 };
    const caps: string[] = [];
    for (const it of block.body) {
      const key = it.keys[0] as string;
      if (it.keys.length !== 1 || !PATH_KEYS.has(key)) {
        throw new HclError(`${where}: invalid key "${it.keys.join(' ')}" on line ${it.line}`);
      }
      const plain = hclToPlain(it.value);
      switch (key) {
        case 'capabilities':
          if (!Array.isArray(plain) || plain.some((c) => typeof c !== 'string')) {
            throw new HclError(`${where}: capabilities must be a list of strings`);
          }
          caps.push(...(plain as string[]));
          break;
        case 'policy': {
          const legacy = typeof plain === 'string' ? LEGACY[plain] : undefined;
          if (!legacy) throw new HclError(`${where}: invalid policy ${JSON.stringify(plain)}`);
          caps.push(...legacy);
          break;
        }
        case 'allowed_parameters':
        case 'denied_parameters': {
          if (!plain || typeof plain !== 'object' || Array.isArray(plain)) {
            throw new HclError(`${where}: ${key} must be an object of lists`);
          }
          const m = new Map<string, unknown[]>();
          for (const [k, vals] of Object.entries(plain)) {
            if (!Array.isArray(vals)) throw new HclError(`${where}: ${key}.${k} must be a list`);
            m.set(k.toLowerCase(), vals);
          }
          if (key === 'allowed_parameters') perms.allowed = m;
          else perms.denied = m;
          break;
        }
        case 'required_parameters':
          if (!Array.isArray(plain) || plain.some((c) => typeof c !== 'string')) {
            throw new HclError(`${where}: required_parameters must be a list of strings`);
          }
          perms.required = plain as string[];
          break;
        case 'min_wrapping_ttl':
        case 'max_wrapping_ttl': {
          const secs = typeof plain === 'number' ? plain : typeof plain === 'string' ? parseDuration(plain) : undefined;
          if (secs === undefined || secs < 0) throw new HclError(`${where}: invalid ${key} ${JSON.stringify(plain)}`);
          if (key === 'min_wrapping_ttl') perms.minWrap = secs;
          else perms.maxWrap = secs;
          break;
        }
        default:
          // comment, and Vault Enterprise's mfa_methods/control_group: accepted, no effect here.
          break;
      }
    }
    for (const c of caps) {
      const bit = (CAP as Record<string, number>)[c];
      if (bit === undefined) throw new HclError(`${where}: invalid capability "${c}"`);
      perms.caps |= bit;
    }
    if (perms.caps & CAP.deny) perms.caps = CAP.deny;
    if (perms.minWrap && perms.maxWrap && perms.maxWrap < perms.minWrap) {
      throw new HclError(`${where}: max_wrapping_ttl cannot be less than min_wrapping_ttl`);
    }
    rules.push({ pattern, perms, templated: pattern.includes('{{') });
  }
  return rules;
}

/** What a token's login says about it, for templated paths. */
export interface TemplateInput {
  /** The login's alias: the auth mount's accessor and the name there. */
  alias?: { mount_accessor: string; name: string };
}

const TEMPLATE_RE = /\{\{\s*([^{}\s]+)\s*\}\}/g;

function renderTemplate(pattern: string, input: TemplateInput): string | undefined {
  let failed = false;
  const out = pattern.replace(TEMPLATE_RE, (_m, expr: string) => {
    const alias = /^identity\.entity\.aliases\.([^.]+)\.name$/.exec(expr);
    if (alias && input.alias && input.alias.mount_accessor === alias[1]) return input.alias.name;
    failed = true;
    return '';
  });
  return failed || out.includes('{{') ? undefined : out;
}

function mergePerms(into: Permissions, p: Permissions): void {
  if ((into.caps | p.caps) & CAP.deny) {
    into.caps = CAP.deny;
    return;
  }
  into.caps |= p.caps;
  const mergeParams = (a: Map<string, unknown[]> | undefined, b: Map<string, unknown[]> | undefined) => {
    if (!a) return b && new Map(b);
    if (!b) return a;
    for (const [k, v] of b) {
      const cur = a.get(k);
      // An empty list means any value: it stays empty.
      if (cur === undefined) a.set(k, [...v]);
      else if (cur.length > 0) a.set(k, v.length === 0 ? [] : [...cur, ...v]);
    }
    return a;
  };
  into.allowed = mergeParams(into.allowed, p.allowed);
  into.denied = mergeParams(into.denied, p.denied);
  if (p.required) into.required = [...new Set([...(into.required ?? []), ...p.required])];
  if (p.minWrap !== undefined) into.minWrap = into.minWrap ? Math.min(into.minWrap, p.minWrap) : p.minWrap;
  if (p.maxWrap !== undefined) into.maxWrap = into.maxWrap ? Math.max(into.maxWrap, p.maxWrap) : p.maxWrap;
}

const clonePerms = (p: Permissions): Permissions => ({
  ...p,
  ...(p.allowed ? { allowed: new Map(p.allowed) } : {}),
  ...(p.denied ? { denied: new Map(p.denied) } : {}),
  ...(p.required ? { required: [...p.required] } : {}),
});

interface NonExact {
  pattern: string;
  /** The pattern without its trailing '*'. */
  stem: string;
  prefix: boolean;
  /** Split stem when it has '+' segments. */
  segments?: string[];
  perms: Permissions;
}

export type AclVerdict = 'allow' | 'deny' | 'none';

export interface AclCheck {
  /** Vault's operation: read, list, create, update, delete, patch, sudo. */
  capability: VaultCapability;
  /** Request fields, for parameter constraints (read/create/update/patch). */
  data?: Record<string, unknown>;
  /** The response-wrapping TTL the request asked for, seconds (0: none). */
  wrapTtl?: number;
}

const MATCH_CACHE_MAX = 10_000;

/** The merged rules of one token's Vault policies. Matching a path is cached. */
export class VaultAcl {
  private readonly exact = new Map<string, Permissions>();
  private readonly nonExact: NonExact[] = [];
  private readonly matches = new Map<string, Permissions | null>();

  constructor(rules: PathRule[]) {
    const merged = new Map<string, Permissions>();
    for (const r of rules) {
      const cur = merged.get(r.pattern);
      if (cur) mergePerms(cur, r.perms);
      else merged.set(r.pattern, clonePerms(r.perms));
    }
    for (const [pattern, perms] of merged) {
      const prefix = pattern.endsWith('*');
      const stem = prefix ? pattern.slice(0, -1) : pattern;
      const segments = stem.split('/');
      const wild = segments.includes('+');
      if (!prefix && !wild) this.exact.set(pattern, perms);
      else this.nonExact.push({ pattern, stem, prefix, perms, ...(wild ? { segments } : {}) });
    }
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.nonExact.length === 0;
  }

  /** The one rule that governs `path` (a list request's path ends in '/'). */
  rule(path: string, list: boolean): Permissions | undefined {
    const key = list ? `L${path}` : `-${path}`;
    const hit = this.matches.get(key);
    if (hit !== undefined) return hit ?? undefined;
    let found = this.exact.get(path);
    if (!found && list && path.endsWith('/')) found = this.exact.get(path.slice(0, -1));
    if (!found) {
      let best: NonExact | undefined;
      for (const r of this.nonExact) {
        if (!matches(r, path)) continue;
        if (!best || morePrecise(r.pattern, best.pattern)) best = r;
      }
      found = best?.perms;
    }
    if (this.matches.size >= MATCH_CACHE_MAX) this.matches.clear();
    this.matches.set(key, found ?? null);
    return found;
  }

  check(path: string, c: AclCheck): AclVerdict {
    const perms = this.rule(path, c.capability === 'list');
    if (!perms) return 'none';
    if (perms.caps & CAP.deny) return 'deny';
    if (!(perms.caps & CAP[c.capability])) return 'none';
    if (perms.maxWrap && !(c.wrapTtl && c.wrapTtl <= perms.maxWrap)) return 'none';
    if (perms.minWrap && !(c.wrapTtl && c.wrapTtl >= perms.minWrap)) return 'none';
    const op = c.capability;
    if (op !== 'read' && op !== 'create' && op !== 'update' && op !== 'patch') return 'allow';
    const data = c.data ?? {};
    for (const p of perms.required ?? []) if (!Object.hasOwn(data, p.toLowerCase())) return 'none';
    const fields = Object.keys(data);
    if (fields.length === 0) return 'allow';
    if (perms.denied && perms.denied.size > 0) {
      if (perms.denied.has('*')) return 'deny';
      for (const f of fields) {
        const vals = perms.denied.get(f.toLowerCase());
        if (vals && valueInList(data[f], vals)) return 'deny';
      }
    }
    if (!perms.allowed || perms.allowed.size === 0) return 'allow';
    const allowAll = perms.allowed.has('*');
    if (allowAll && perms.allowed.size === 1) return 'allow';
    for (const f of fields) {
      const vals = perms.allowed.get(f.toLowerCase());
      if (vals === undefined) {
        if (!allowAll) return 'none';
      } else if (!valueInList(data[f], vals)) {
        return 'none';
      }
    }
    return 'allow';
  }

  /** Capabilities on a path, by Vault's names (sys/capabilities). */
  capabilities(path: string): VaultCapability[] {
    const perms = this.rule(path, false);
    if (!perms) return [];
    return (Object.keys(CAP) as VaultCapability[]).filter((c) => perms.caps & CAP[c]);
  }

  /** Whether any rule may allow something at or under `prefix` (the UI's mount listing). */
  mayAccessUnder(prefix: string): boolean {
    const ok = (p: Permissions) => p.caps !== 0 && !(p.caps & CAP.deny);
    for (const [pattern, perms] of this.exact) if (ok(perms) && pattern.startsWith(prefix)) return true;
    for (const r of this.nonExact) {
      if (!ok(r.perms)) continue;
      const fixed = r.stem.split('+')[0] as string;
      if (fixed.startsWith(prefix) || prefix.startsWith(fixed)) return true;
    }
    return false;
  }
}

function matches(r: NonExact, path: string): boolean {
  if (!r.segments) return path.startsWith(r.stem);
  const have = path.split('/');
  const want = r.segments;
  if (r.prefix ? have.length < want.length : have.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const h = have[i] as string;
    if (w === '+') continue;
    if (r.prefix && i === want.length - 1) {
      if (!h.startsWith(w)) return false;
    } else if (w !== h) {
      return false;
    }
  }
  return true;
}

/**
 * Vault's rules for which of two matching patterns governs: the one whose first wildcard comes
 * later; then the one not ending in `*`; then fewer `+` segments; then the longer; then the
 * lexically greater.
 */
function morePrecise(a: string, b: string): boolean {
  const firstWild = (p: string) => {
    const i = p.search(/\+|\*$/);
    return i < 0 ? p.length : i;
  };
  const wa = firstWild(a);
  const wb = firstWild(b);
  if (wa !== wb) return wa > wb;
  const sa = a.endsWith('*');
  const sb = b.endsWith('*');
  if (sa !== sb) return !sa;
  const pa = a.split('/').filter((s) => s === '+').length;
  const pb = b.split('/').filter((s) => s === '+').length;
  if (pa !== pb) return pa < pb;
  if (a.length !== b.length) return a.length > b.length;
  return a > b;
}

/** A parameter value against a list of allowed or denied values; `*` globs at either end. */
function valueInList(value: unknown, list: unknown[]): boolean {
  if (list.length === 0) return true;
  const values = Array.isArray(value) ? value : [value];
  return values.every((v) =>
    list.some((x) => {
      if (typeof x === 'string' && typeof v === 'string') return globMatch(x, v);
      return JSON.stringify(x) === JSON.stringify(v);
    }),
  );
}

function globMatch(pattern: string, s: string): boolean {
  if (pattern === '*') return true;
  const starts = pattern.startsWith('*');
  const ends = pattern.endsWith('*');
  if (starts && ends && pattern.length > 1) return s.includes(pattern.slice(1, -1));
  if (ends) return s.startsWith(pattern.slice(0, -1));
  if (starts) return s.endsWith(pattern.slice(1));
  return s === pattern;
}

/** Rules with their templates filled in for one token; unresolvable ones left out. */
export function renderRules(rules: PathRule[], input: TemplateInput): PathRule[] {
  const out: PathRule[] = [];
  for (const r of rules) {
    if (!r.templated) {
      out.push(r);
      continue;
    }
    const pattern = renderTemplate(r.pattern, input);
    if (pattern !== undefined) out.push({ ...r, pattern, templated: false });
  }
  return out;
}
