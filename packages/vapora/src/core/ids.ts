import { randomBytes, randomUUID } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/** A short random id with a prefix, e.g. `t-4k9x2m1p` (40 bits: fine per project, never a secret). */
export function shortId(prefix: string, length = 8): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b & 31];
  return `${prefix}-${out}`;
}

export const uuid = (): string => randomUUID();
