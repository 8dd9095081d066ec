import 'reflect-metadata';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import * as x509 from '@peculiar/x509';
import { invalid } from '../../errors.js';

/**
 * Key pairs for the PKI engine: RSA, ECDSA and Ed25519 through Node's WebCrypto, ML-DSA-65
 * (FIPS 204) through @noble/post-quantum. @peculiar/x509 builds every certificate, CSR and
 * CRL, signing through `crypto.subtle`; Node 20's WebCrypto has no ML-DSA, so the provider
 * given to x509 routes ML-DSA-65 keys to noble and everything else to Node.
 */

export const KEY_TYPES = ['rsa', 'ec', 'ed25519', 'ml-dsa-65'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const isKeyType = (t: string): t is KeyType => (KEY_TYPES as readonly string[]).includes(t);

const ML_DSA_65 = 'ML-DSA-65';
/** id-ml-dsa-65 (RFC 9881), parameters absent. */
export const ML_DSA_65_OID = '2.16.840.1.101.3.4.3.18';
const ML_DSA_65_ALG_DER = Uint8Array.from([
  0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12,
]);
const ML_DSA_65_PUBLIC_BYTES = 1952;
const ML_DSA_SEED_BYTES = 32;

/** An ML-DSA-65 key where x509 expects a CryptoKey (it only reads `algorithm` and `type`). */
class MlDsaKey {
  readonly algorithm = { name: ML_DSA_65 };
  readonly extractable = true;
  readonly usages: string[];
  constructor(
    readonly type: 'public' | 'private',
    /** The public key, or the expanded secret key. */
    readonly bytes: Uint8Array,
  ) {
    this.usages = type === 'public' ? ['verify'] : ['sign'];
  }
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const be16 = (n: number) => Uint8Array.from([n >> 8, n & 0xff]);
const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
const arrayBuffer = (u: Uint8Array): ArrayBuffer => u.slice().buffer;

/** SubjectPublicKeyInfo of an ML-DSA-65 public key (RFC 9881 §4: the raw key in the BIT STRING). */
function mlDsaSpki(publicKey: Uint8Array): Uint8Array {
  const bits = concat(Uint8Array.from([0x03, 0x82]), be16(publicKey.length + 1), Uint8Array.of(0), publicKey);
  const body = concat(ML_DSA_65_ALG_DER, bits);
  return concat(Uint8Array.from([0x30, 0x82]), be16(body.length), body);
}

function mlDsaPublicFromSpki(spki: Uint8Array): Uint8Array {
  const header = mlDsaSpki(new Uint8Array(ML_DSA_65_PUBLIC_BYTES)).subarray(0, -ML_DSA_65_PUBLIC_BYTES);
  if (spki.length !== header.length + ML_DSA_65_PUBLIC_BYTES || !equalBytes(spki.subarray(0, header.length), header)) {
    throw new Error('not an ML-DSA-65 public key');
  }
  return spki.slice(header.length);
}

/** PKCS#8 with the seed-only private key form of RFC 9881 (`[0] OCTET STRING (32)`). */
function mlDsaPkcs8(seed: Uint8Array): Uint8Array {
  const key = concat(Uint8Array.from([0x04, 0x22, 0x80, 0x20]), seed);
  const body = concat(Uint8Array.from([0x02, 0x01, 0x00]), ML_DSA_65_ALG_DER, key);
  return concat(Uint8Array.from([0x30, body.length]), body);
}

function mlDsaSeedFromPkcs8(der: Uint8Array): Uint8Array {
  const expected = mlDsaPkcs8(new Uint8Array(ML_DSA_SEED_BYTES));
  const head = expected.length - ML_DSA_SEED_BYTES;
  if (der.length !== expected.length || !equalBytes(der.subarray(0, head), expected.subarray(0, head))) {
    throw new Error('not an ML-DSA-65 seed private key');
  }
  return der.slice(head);
}

const isMlDsa = (alg: unknown) =>
  (typeof alg === 'string' ? alg : (alg as { name?: string } | undefined)?.name)?.toUpperCase() === ML_DSA_65;

const nodeSubtle = webcrypto.subtle;
/** Node's SubtleCrypto, plus ML-DSA-65 for the few calls x509 makes: sign, verify, export and import SPKI. */
const subtle = new Proxy(nodeSubtle, {
  get(target, prop) {
    switch (prop) {
      case 'sign':
        return async (alg: unknown, key: unknown, data: webcrypto.BufferSource) =>
          key instanceof MlDsaKey
            ? arrayBuffer(ml_dsa65.sign(bytesOf(data), key.bytes))
            : target.sign(alg as never, key as webcrypto.CryptoKey, data);
      case 'verify':
        return async (alg: unknown, key: unknown, sig: webcrypto.BufferSource, data: webcrypto.BufferSource) =>
          key instanceof MlDsaKey
            ? ml_dsa65.verify(bytesOf(sig), bytesOf(data), key.bytes)
            : target.verify(alg as never, key as webcrypto.CryptoKey, sig, data);
      case 'exportKey':
        return async (format: string, key: unknown) => {
          if (!(key instanceof MlDsaKey)) return target.exportKey(format as never, key as webcrypto.CryptoKey);
          if (format !== 'spki' || key.type !== 'public')
            throw new Error(`cannot export an ML-DSA-65 key as ${format}`);
          return arrayBuffer(mlDsaSpki(key.bytes));
        };
      case 'importKey':
        return async (
          format: string,
          data: webcrypto.BufferSource,
          alg: unknown,
          extractable: boolean,
          usages: string[],
        ) => {
          if (!isMlDsa(alg))
            return target.importKey(format as never, data as never, alg as never, extractable, usages as never);
          if (format !== 'spki') throw new Error(`cannot import an ML-DSA-65 key from ${format}`);
          return new MlDsaKey('public', mlDsaPublicFromSpki(bytesOf(data)));
        };
      default: {
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      }
    }
  },
});

function bytesOf(data: webcrypto.BufferSource): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

export const pkiCrypto = {
  subtle,
  getRandomValues: <T extends ArrayBufferView | null>(a: T) => webcrypto.getRandomValues(a as never) as T,
  randomUUID: () => webcrypto.randomUUID(),
} as unknown as webcrypto.Crypto;
x509.cryptoProvider.set(pkiCrypto);

/** A key that signs certificates, CSRs and CRLs (a WebCrypto key, or an ML-DSA-65 one). */
export type SigningKey = webcrypto.CryptoKey;

export interface KeyPair {
  type: KeyType;
  bits: number;
  /** SubjectPublicKeyInfo, DER. */
  spki: Uint8Array;
  /** PKCS#8, DER: what the barrier stores and what `exported` returns once. */
  pkcs8: Uint8Array;
  signingKey: SigningKey;
  /** The public half as a key (x509's CSR generator exports it itself). */
  publicKey: SigningKey;
}

const EC_CURVES: Record<number, { curve: string; hash: string }> = {
  256: { curve: 'P-256', hash: 'SHA-256' },
  384: { curve: 'P-384', hash: 'SHA-384' },
  521: { curve: 'P-521', hash: 'SHA-512' },
};
const RSA_BITS = [2048, 3072, 4096];

/** key_bits 0 means the type's default, as in Vault; anything else must be a size the type has. */
export function normalizeKeyBits(type: KeyType, bits: number): number {
  switch (type) {
    case 'rsa':
      if (bits === 0) return 2048;
      if (!RSA_BITS.includes(bits)) throw invalid(`unsupported key_bits ${bits} for key_type rsa (2048, 3072 or 4096)`);
      return bits;
    case 'ec':
      if (bits === 0) return 256;
      if (!EC_CURVES[bits]) throw invalid(`unsupported key_bits ${bits} for key_type ec (256, 384 or 521)`);
      return bits;
    default:
      if (bits !== 0) throw invalid(`key_bits does not apply to key_type ${type}`);
      return 0;
  }
}

function webAlgorithm(type: Exclude<KeyType, 'ml-dsa-65'>, bits: number) {
  switch (type) {
    case 'rsa':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: bits,
        publicExponent: Uint8Array.from([1, 0, 1]),
        hash: 'SHA-256',
      };
    case 'ec':
      return { name: 'ECDSA', namedCurve: (EC_CURVES[bits] ?? EC_CURVES[256])?.curve as string };
    case 'ed25519':
      return { name: 'Ed25519' };
  }
}

/** The signature algorithm a CA key signs with (x509 adds the key's own algorithm fields). */
export function signingAlgorithm(type: KeyType, bits: number): webcrypto.Algorithm & { hash?: string } {
  switch (type) {
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'ec':
      return { name: 'ECDSA', hash: (EC_CURVES[bits] ?? EC_CURVES[256])?.hash as string };
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'ml-dsa-65':
      return { name: ML_DSA_65 };
  }
}

export async function generateKeyPair(type: KeyType, bits: number): Promise<KeyPair> {
  if (type === 'ml-dsa-65') {
    const seed = webcrypto.getRandomValues(new Uint8Array(ML_DSA_SEED_BYTES));
    const { publicKey, secretKey } = ml_dsa65.keygen(seed);
    return {
      type,
      bits,
      spki: mlDsaSpki(publicKey),
      pkcs8: mlDsaPkcs8(seed),
      signingKey: new MlDsaKey('private', secretKey) as unknown as SigningKey,
      publicKey: new MlDsaKey('public', publicKey) as unknown as SigningKey,
    };
  }
  const pair = (await nodeSubtle.generateKey(webAlgorithm(type, bits), true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const pkcs8 = new Uint8Array(await nodeSubtle.exportKey('pkcs8', pair.privateKey));
  const spki = new Uint8Array(await nodeSubtle.exportKey('spki', pair.publicKey));
  return {
    type,
    bits,
    spki,
    pkcs8,
    signingKey: pair.privateKey as unknown as SigningKey,
    publicKey: pair.publicKey as unknown as SigningKey,
  };
}

/** A stored CA key, ready to sign. */
export async function importSigningKey(type: KeyType, bits: number, pkcs8: Uint8Array): Promise<SigningKey> {
  if (type === 'ml-dsa-65') {
    const { secretKey } = ml_dsa65.keygen(mlDsaSeedFromPkcs8(pkcs8));
    return new MlDsaKey('private', secretKey) as unknown as SigningKey;
  }
  const key = await nodeSubtle.importKey('pkcs8', pkcs8, webAlgorithm(type, bits), false, ['sign']);
  return key as unknown as SigningKey;
}

/** The public key of a stored private key (to match a signed intermediate with its pending key). */
export function spkiOfPkcs8(type: KeyType, pkcs8: Uint8Array): Uint8Array {
  if (type === 'ml-dsa-65') return mlDsaSpki(ml_dsa65.keygen(mlDsaSeedFromPkcs8(pkcs8)).publicKey);
  const priv = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  return new Uint8Array(createPublicKey(priv).export({ format: 'der', type: 'spki' }));
}

export type PrivateKeyFormat = 'der' | 'pkcs8';

/**
 * A private key as Vault returns it: PKCS#1 for RSA and SEC 1 for EC by default, PKCS#8 when
 * private_key_format=pkcs8 (and always for Ed25519 and ML-DSA-65, which have no other form).
 * `pem` false gives base64 DER (format=der).
 */
export function renderPrivateKey(pair: Pick<KeyPair, 'type' | 'pkcs8'>, keyFormat: PrivateKeyFormat, pem: boolean) {
  let der: Uint8Array = pair.pkcs8;
  let label = 'PRIVATE KEY';
  if (keyFormat === 'der' && (pair.type === 'rsa' || pair.type === 'ec')) {
    const legacy = pair.type === 'rsa' ? 'pkcs1' : 'sec1';
    const priv = createPrivateKey({ key: Buffer.from(pair.pkcs8), format: 'der', type: 'pkcs8' });
    der = new Uint8Array(priv.export({ format: 'der', type: legacy }));
    label = pair.type === 'rsa' ? 'RSA PRIVATE KEY' : 'EC PRIVATE KEY';
  }
  return pem ? x509.PemConverter.encode(arrayBuffer(der), label) : Buffer.from(der).toString('base64');
}

/** The key type and size of a public key (a CSR's), or undefined for algorithms we do not issue for. */
export function keyTypeOf(pub: x509.PublicKey): { type: KeyType; bits: number } | undefined {
  const alg = pub.algorithm as { name?: string; namedCurve?: string; modulusLength?: number };
  switch (alg.name?.toUpperCase()) {
    case 'RSASSA-PKCS1-V1_5':
    case 'RSA-PSS':
      return { type: 'rsa', bits: alg.modulusLength ?? 0 };
    case 'ECDSA':
    case 'ECDH': {
      const bits = Object.entries(EC_CURVES).find(([, c]) => c.curve === alg.namedCurve)?.[0];
      return bits ? { type: 'ec', bits: Number(bits) } : undefined;
    }
    case 'ED25519':
      return { type: 'ed25519', bits: 0 };
    case ML_DSA_65:
      return { type: 'ml-dsa-65', bits: 0 };
    default:
      return undefined;
  }
}
