import { createHash } from 'node:crypto';

/** Lowercase ASCII words joined by dashes, at most `max` characters, never empty. */
export function slugify(text: string, max = 48): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!s) return 'node';
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  const dash = cut.lastIndexOf('-');
  return (dash > max / 2 ? cut.slice(0, dash) : cut).replace(/-+$/, '');
}

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

export const shortHash = (text: string, n = 6): string => sha256(text).slice(0, n);

/**
 * A readable, stable id: the title's slug and a short hash of what identifies the node
 * (its type and title for nodes made here, its source path for imported ones).
 */
export function makeId(title: string, key: string): string {
  return `${slugify(title)}-${shortHash(key)}`;
}

/** `KubeHpaMaxedOut` → `Kube Hpa Maxed Out`; `etcdGRPCRequestsSlow` → `etcd GRPC Requests Slow`. */
export function splitCamel(word: string): string {
  return word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2');
}

/** A valid id looks like a slug: lowercase letters, digits and dashes. */
export const isIdLike = (s: string): boolean => /^[a-z0-9][a-z0-9-]*$/.test(s);
