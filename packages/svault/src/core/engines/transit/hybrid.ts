import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { type KEMPrepared, ml_kem768 } from '@noble/post-quantum/ml-kem.js';

/**
 * The hybrid KEM of `ml-kem-768` transit keys: ML-KEM-768 and X25519 side by side, so that a
 * ciphertext stays confidential as long as either one holds. The two shared secrets are combined
 * with HKDF-SHA256; like X-Wing, the info binds the X25519 ephemeral and static public keys
 * (ML-KEM's own ciphertext is already bound by its IND-CCA2 transform).
 *
 * Secret key (96 bytes): ML-KEM-768 seed (64) || X25519 private key (32).
 * Public key (1216 bytes): ML-KEM-768 encapsulation key (1184) || X25519 public key (32).
 * Encapsulation (1120 bytes): ML-KEM-768 ciphertext (1088) || X25519 ephemeral public key (32).
 */

export const HYBRID_SECRET_LEN = 96;
export const HYBRID_ENCAPSULATION_LEN = 1088 + 32;
const KEM_CT_LEN = 1088;
const LABEL = Buffer.from('svault transit ML-KEM-768+X25519 v1');
// DER headers of a raw X25519 key (RFC 8410): node:crypto imports and exports keys in these forms.
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

export interface HybridKey {
  kemSecret: Uint8Array;
  /** ML-KEM's public matrix expanded once: halves the cost of each encapsulation. */
  kem: KEMPrepared;
  xPrivate: KeyObject;
  xPublic: KeyObject;
  xPublicRaw: Uint8Array;
  /** What key reads show: both public keys, concatenated. */
  publicKey: Uint8Array;
}

const rawX25519Public = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }).subarray(12));

export function generateHybridSecret(): Uint8Array {
  const seed = randomBytes(64);
  const x = generateKeyPairSync('x25519').privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16);
  const out = new Uint8Array(HYBRID_SECRET_LEN);
  out.set(seed, 0);
  out.set(x, 64);
  return out;
}

export function loadHybridKey(secret: Uint8Array): HybridKey {
  if (secret.length !== HYBRID_SECRET_LEN) throw new Error('hybrid key: wrong secret length');
  const { secretKey, publicKey } = ml_kem768.keygen(secret.subarray(0, 64));
  const xPrivate = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8, secret.subarray(64)]),
    format: 'der',
    type: 'pkcs8',
  });
  const xPublic = createPublicKey(xPrivate);
  const xPublicRaw = rawX25519Public(xPublic);
  const both = new Uint8Array(publicKey.length + 32);
  both.set(publicKey, 0);
  both.set(xPublicRaw, publicKey.length);
  return { kemSecret: secretKey, kem: ml_kem768.prepare(publicKey), xPrivate, xPublic, xPublicRaw, publicKey: both };
}

function combine(kemSecret: Uint8Array, xSecret: Uint8Array, xEphemeral: Uint8Array, xStatic: Uint8Array) {
  const ikm = Buffer.concat([kemSecret, xSecret]);
  const info = Buffer.concat([LABEL, xEphemeral, xStatic]);
  return new Uint8Array(hkdfSync('sha256', ikm, new Uint8Array(0), info, 32));
}

/** A fresh 32-byte key and the encapsulation that lets the holder of `key` recover it. */
export function hybridEncapsulate(key: HybridKey): { encapsulation: Uint8Array; sharedKey: Uint8Array } {
  const { cipherText, sharedSecret } = key.kem.encapsulate();
  const eph = generateKeyPairSync('x25519');
  const ephRaw = rawX25519Public(eph.publicKey);
  const xSecret = diffieHellman({ privateKey: eph.privateKey, publicKey: key.xPublic });
  const encapsulation = new Uint8Array(HYBRID_ENCAPSULATION_LEN);
  encapsulation.set(cipherText, 0);
  encapsulation.set(ephRaw, KEM_CT_LEN);
  return { encapsulation, sharedKey: combine(sharedSecret, xSecret, ephRaw, key.xPublicRaw) };
}

/**
 * The key an encapsulation carries. A changed ML-KEM ciphertext yields a different (implicitly
 * rejected) key, so the payload's AEAD tag is what reports tampering.
 */
export function hybridDecapsulate(key: HybridKey, encapsulation: Uint8Array): Uint8Array {
  const kemSecret = key.kem.decapsulate(encapsulation.subarray(0, KEM_CT_LEN), key.kemSecret);
  const ephRaw = encapsulation.subarray(KEM_CT_LEN, HYBRID_ENCAPSULATION_LEN);
  const eph = createPublicKey({ key: Buffer.concat([X25519_SPKI, ephRaw]), format: 'der', type: 'spki' });
  const xSecret = diffieHellman({ privateKey: key.xPrivate, publicKey: eph });
  return combine(kemSecret, xSecret, ephRaw, key.xPublicRaw);
}
