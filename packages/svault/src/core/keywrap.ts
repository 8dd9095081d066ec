import { hkdfSync, randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import type { Aead } from './crypto.js';
import { NONCE_LEN, randomNonce } from './crypto.js';

/**
 * The `pqc` crypto backend's keyring wrap: hybrid ML-KEM-768 + X25519, so that a recorded
 * copy of storage stays closed even to an attacker who can later run Shor's algorithm against
 * X25519 — and stays closed if ML-KEM turns out weak, since both shared secrets feed the key.
 *
 * Both key pairs are derived from the root key (HKDF), so the unseal keys stay the only secret
 * to keep: unsealing rebuilds the private keys, decapsulates and opens the keyring. Each wrap
 * encapsulates afresh (new KEM ciphertext, new ephemeral X25519 key); the AEAD key is
 * HKDF-SHA256(ss_mlkem ‖ ss_x25519, salt = kem_ct ‖ ephemeral_pk), X-Wing-like. A wrong root key
 * makes ML-KEM return its implicit-rejection secret and the AEAD tag fails: "invalid unseal keys".
 *
 * Blob: [2][cipher id][kem ct: 1088][ephemeral x25519 pk: 32][nonce: 12][ciphertext ‖ tag].
 */
export const HYBRID_VERSION = 2;
const KEM_CT_LEN = 1088;
const X_PK_LEN = 32;
const HEADER_LEN = 2 + KEM_CT_LEN + X_PK_LEN;
const enc = new TextEncoder();

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, len: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, len));
}

function keyPairs(rootKey: Uint8Array) {
  const none = new Uint8Array(0);
  const kem = ml_kem768.keygen(hkdf(rootKey, none, 'svault keyring ml-kem-768 seed', 64));
  const xSecret = hkdf(rootKey, none, 'svault keyring x25519 secret', 32);
  return { kem, xSecret, xPublic: x25519.getPublicKey(xSecret) };
}

function combine(ssKem: Uint8Array, ssX: Uint8Array, kemCt: Uint8Array, ePk: Uint8Array): Uint8Array {
  const ikm = new Uint8Array(ssKem.length + ssX.length);
  ikm.set(ssKem);
  ikm.set(ssX, ssKem.length);
  const salt = new Uint8Array(kemCt.length + ePk.length);
  salt.set(kemCt);
  salt.set(ePk, kemCt.length);
  const key = hkdf(ikm, salt, 'svault keyring hybrid ML-KEM-768+X25519', 32);
  ikm.fill(0);
  return key;
}

export function hybridWrap(aead: Aead, rootKey: Uint8Array, plain: Uint8Array, aad: string): Uint8Array {
  const { kem, xSecret, xPublic } = keyPairs(rootKey);
  const { cipherText: kemCt, sharedSecret: ssKem } = ml_kem768.encapsulate(kem.publicKey);
  const eSecret = new Uint8Array(randomBytes(32));
  const ePk = x25519.getPublicKey(eSecret);
  const key = combine(ssKem, x25519.getSharedSecret(eSecret, xPublic), kemCt, ePk);
  const header = new Uint8Array(HEADER_LEN);
  header.set([HYBRID_VERSION, aead.id]);
  header.set(kemCt, 2);
  header.set(ePk, 2 + KEM_CT_LEN);
  const nonce = randomNonce();
  const ct = aead.seal(key, nonce, plain, concatAad(header, aad));
  for (const b of [key, eSecret, xSecret, ssKem, kem.secretKey]) b.fill(0);
  const out = new Uint8Array(HEADER_LEN + NONCE_LEN + ct.length);
  out.set(header);
  out.set(nonce, HEADER_LEN);
  out.set(ct, HEADER_LEN + NONCE_LEN);
  return out;
}

/** Throws when the blob is malformed or `rootKey` is not the one it was wrapped for. */
export function hybridUnwrap(aeadOf: (id: number) => Aead, rootKey: Uint8Array, blob: Uint8Array, aad: string) {
  if (blob[0] !== HYBRID_VERSION || blob.length < HEADER_LEN + NONCE_LEN + 16) throw new Error('not a hybrid blob');
  const header = blob.subarray(0, HEADER_LEN);
  const kemCt = blob.subarray(2, 2 + KEM_CT_LEN);
  const ePk = blob.subarray(2 + KEM_CT_LEN, HEADER_LEN);
  const { kem, xSecret } = keyPairs(rootKey);
  const ssKem = ml_kem768.decapsulate(kemCt, kem.secretKey);
  const key = combine(ssKem, x25519.getSharedSecret(xSecret, ePk), kemCt, ePk);
  try {
    const nonce = blob.subarray(HEADER_LEN, HEADER_LEN + NONCE_LEN);
    return aeadOf(blob[1] ?? 0).open(key, nonce, blob.subarray(HEADER_LEN + NONCE_LEN), concatAad(header, aad));
  } finally {
    for (const b of [key, xSecret, ssKem, kem.secretKey]) b.fill(0);
  }
}

function concatAad(header: Uint8Array, path: string): Uint8Array {
  const p = enc.encode(path);
  const out = new Uint8Array(header.length + p.length);
  out.set(header);
  out.set(p, header.length);
  return out;
}
