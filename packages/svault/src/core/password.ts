import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes for the userpass auth method: scrypt from node:crypto, run on libuv's thread
 * pool. A hash names its parameters, so they can be raised later without breaking old ones:
 * `scrypt$<N>$<r>$<p>$<salt b64>$<key b64>`.
 */
const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
/** scrypt needs 128·N·r bytes (32 MiB here); node's default ceiling is exactly that, so raise it. */
const MAX_MEM = 64 * 1024 * 1024;

let work = 0;
/** How many scrypt computations ran in this process (tests check that every failure costs one). */
export const passwordWork = (): number => work;

function derive(password: string, salt: Buffer, opts: ScryptOptions & { N: number }): Promise<Buffer> {
  work++;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LEN, { ...opts, maxmem: MAX_MEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

let dummy: string | undefined;

/**
 * Whether `password` matches `stored`. With no stored hash (an unknown user) it hashes against a
 * made-up one with the same parameters, so that failure costs the same work as a wrong password.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  dummy ??= `scrypt$${N}$${R}$${P}$${randomBytes(16).toString('base64')}$${randomBytes(KEY_LEN).toString('base64')}`;
  const parts = (stored ?? dummy).split('$');
  const [, n, r, p, salt, key] = parts.length === 6 ? parts : dummy.split('$');
  const expected = Buffer.from(key as string, 'base64');
  const got = await derive(password, Buffer.from(salt as string, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return got.length === expected.length && timingSafeEqual(got, expected) && stored !== undefined;
}
