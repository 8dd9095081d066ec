import { createHash } from 'node:crypto';
import type { Attrs } from './types.js';

/** Keys whose values are secrets: stored and planned only as a hash, never printed. */
export const SENSITIVE_KEY = /(pass(word)?|secret|token|private_?key|access_?key|credential)s?$/i;
/** A reference to a secret (resolved only when a task runs): not a secret itself. */
export const SECRET_REF = /^(svault|env):\/\//;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

export function maskValue(v: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
  return `(sensitive sha256:${h})`;
}

/**
 * A copy of attrs with every secret value under a sensitive key replaced by its hash; the dotted paths that
 * were masked are returned too. References (svault://..., env://...) are kept as they are.
 */
export function maskSensitive(attrs: Attrs): { attrs: Attrs; sensitive: string[] } {
  const sensitive: string[] = [];
  const walk = (v: unknown, path: string, key: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`, key));
    if (v && typeof v === 'object') {
      const out: Attrs = {};
      for (const [k, x] of Object.entries(v as Attrs)) out[k] = walk(x, path ? `${path}.${k}` : k, k);
      return out;
    }
    if (key && isSensitiveKey(key) && v !== null && v !== '' && !(typeof v === 'string' && SECRET_REF.test(v))) {
      sensitive.push(path);
      return maskValue(v);
    }
    return v;
  };
  return { attrs: walk(attrs, '', '') as Attrs, sensitive };
}

/** Removes every occurrence of the given secret strings from a text (logs, errors, streamed output). */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('***');
  return out;
}
