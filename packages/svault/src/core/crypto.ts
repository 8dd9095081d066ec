import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** Authenticated encryption with a 32-byte key, a 12-byte nonce and a 16-byte tag appended. */
export interface Aead {
  readonly id: CipherId;
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Throws when the tag does not verify (wrong key, changed bytes, other AAD). */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

/** Written into every sealed blob, so that entries stay readable when the default changes. */
export const CIPHER = { 'aes-256-gcm': 1, 'chacha20-poly1305': 2 } as const;
export type CipherName = keyof typeof CIPHER;
export type CipherId = (typeof CIPHER)[CipherName];
export type CryptoBackendName = 'openssl' | 'noble' | 'pqc';

export const NONCE_LEN = 12;
export const TAG_LEN = 16;

function nodeAead(id: CipherId): Aead {
  const algo = id === CIPHER['aes-256-gcm'] ? 'aes-256-gcm' : 'chacha20-poly1305';
  return {
    id,
    seal(key, nonce, plaintext, aad) {
      const c = createCipheriv(algo as 'aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
      c.setAAD(aad);
      const out = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    },
    open(key, nonce, sealed, aad) {
      if (sealed.length < TAG_LEN) throw new Error('ciphertext too short');
      const d = createDecipheriv(algo as 'aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
      const out = Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_LEN)), d.final()]);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    },
  };
}

async function nobleAead(id: CipherId): Promise<Aead> {
  const make =
    id === CIPHER['aes-256-gcm']
      ? (await import('@noble/ciphers/aes.js')).gcm
      : (await import('@noble/ciphers/chacha.js')).chacha20poly1305;
  return {
    id,
    seal: (key, nonce, plaintext, aad) => make(key, nonce, aad).encrypt(plaintext),
    open: (key, nonce, sealed, aad) => make(key, nonce, aad).decrypt(sealed),
  };
}

/**
 * The ciphers of one crypto backend. `openssl` (node:crypto) is the default: on this class of
 * machine its AES-GCM is ~50× faster than pure JS. `noble` is pure JS, for audits and
 * platforms without a usable OpenSSL; both produce the same bytes for the same cipher. `pqc`
 * wraps the keyring with hybrid ML-KEM-768 + X25519 (keywrap.ts) and uses node:crypto for data.
 */
export class CryptoSuite {
  private constructor(
    readonly backend: CryptoBackendName,
    readonly cipher: CipherName,
    private readonly aeads: Map<CipherId, Aead>,
  ) {}

  static async create(backend: CryptoBackendName = 'openssl', cipher: CipherName = 'aes-256-gcm') {
    const aeads = new Map<CipherId, Aead>();
    for (const id of Object.values(CIPHER)) aeads.set(id, backend === 'noble' ? await nobleAead(id) : nodeAead(id));
    return new CryptoSuite(backend, cipher, aeads);
  }

  /** The AEAD new data is written with. */
  get default(): Aead {
    return this.aead(CIPHER[this.cipher]);
  }

  aead(id: number): Aead {
    const a = this.aeads.get(id as CipherId);
    if (!a) throw new Error(`unknown cipher id ${id}`);
    return a;
  }
}

export const randomKey = (): Uint8Array => new Uint8Array(randomBytes(32));
/** Nonces come from a pool of random bytes refilled 4 KiB at a time (one RNG call per ~340 nonces). */
let noncePool = new Uint8Array(0);
let noncePos = 0;
export function randomNonce(): Uint8Array {
  if (noncePos + NONCE_LEN > noncePool.length) {
    noncePool = new Uint8Array(randomBytes(4096));
    noncePos = 0;
  }
  const n = noncePool.slice(noncePos, noncePos + NONCE_LEN);
  // Each nonce is used once: wipe it from the pool.
  noncePool.fill(0, noncePos, noncePos + NONCE_LEN);
  noncePos += NONCE_LEN;
  return n;
}

export function hmacSha256(key: Uint8Array, data: Uint8Array | string): Uint8Array {
  const out = createHmac('sha256', key).update(data).digest();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** A purpose-bound key from a master key; different `info` strings give unrelated keys. */
export function deriveKey(master: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', master, new Uint8Array(0), info, 32));
}
