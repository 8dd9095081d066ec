import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';
import { p256 } from '@noble/curves/nist.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { randomNonce } from '../../crypto.js';
import { invalid, VaultError } from '../../errors.js';
import {
  generateHybridSecret,
  HYBRID_ENCAPSULATION_LEN,
  hybridDecapsulate,
  hybridEncapsulate,
  loadHybridKey,
} from './hybrid.js';

/**
 * Transit keys: a named policy with numbered versions of key material, as Vault's keysutil.Policy.
 * Everything here is pure crypto and validation; storage and caching live in the engine.
 */

export const KEY_TYPES = [
  'aes256-gcm96',
  'chacha20-poly1305',
  'ed25519',
  'ecdsa-p256',
  'ml-dsa-65',
  'ml-kem-768',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
  'hmac',
] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const isKeyType = (t: string): t is KeyType => (KEY_TYPES as readonly string[]).includes(t);

/** Vault's text, kept verbatim: clients match on it. */
export const ERR_TOO_OLD = 'ciphertext or signature version is disallowed by policy (too old)';

interface KeyVersion {
  /** RFC 3339. */
  creation_time: string;
  /** The secret material, base64 (inside the barrier only). */
  key: string;
  /** The HMAC key of this version (every type has one, as in Vault). */
  hmac_key: string;
}

/** What is stored at `policy/<name>` in the mount's barrier view. */
export interface StoredKey {
  name: string;
  type: KeyType;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  deletion_allowed: boolean;
  exportable: boolean;
  /** Bytes of an `hmac` key's material. */
  key_size?: number;
  /** `backup/<name>` may hand the key out (set once, never unset; needs exportable too). */
  allow_plaintext_backup?: boolean;
  /** Every operation derives a key from the request's `context` (HKDF-SHA256). */
  derived?: boolean;
  /** With `derived`: the nonce comes from the plaintext, so equal plaintexts (same context) give equal ciphertexts. */
  convergent_encryption?: boolean;
  versions: Record<string, KeyVersion>;
}

export interface SignOptions {
  /** node:crypto's name of the hash (ecdsa and rsa). */
  hash: string;
  marshaling: 'asn1' | 'jws';
  /** The input is already a digest (ecdsa only): sign it as it is. */
  prehashed: boolean;
  /** RSA: PSS (Vault's default) or PKCS#1 v1.5. */
  signatureAlgorithm: 'pss' | 'pkcs1v15';
  /** RSA PSS: 'auto' (the largest on signing, any on verifying, as Go's), 'hash' (the hash's length) or bytes. */
  saltLength: 'auto' | 'hash' | number;
}

/** One version's material, decoded once and kept in memory. */
interface Material {
  publicKey?: string;
  encrypt?(plaintext: Uint8Array, aad: Uint8Array, nonce?: Uint8Array): Buffer;
  decrypt?(sealed: Buffer, aad: Uint8Array): Buffer;
  sign?(input: Uint8Array, opts: SignOptions): Buffer;
  verify?(input: Uint8Array, signature: Buffer, opts: SignOptions): boolean;
  /** Exported forms (only for exportable keys). */
  exportSecret(kind: 'encryption-key' | 'signing-key'): string | undefined;
}

interface Algorithm {
  encryption: boolean;
  signing: boolean;
  /** Takes `associated_data` (and `context`) as authenticated data. */
  aead: boolean;
  /** Name shown for each version of an asymmetric key (Vault: the curve's name). */
  publicName?: string;
  generate(size: number): Uint8Array | Promise<Uint8Array>;
  load(secret: Uint8Array): Material;
}

const NONCE_LEN = 12;
const TAG_LEN = 16;
const authFailed = () => invalid('cipher: message authentication failed');

type AeadCipher = 'aes-256-gcm' | 'chacha20-poly1305';

/** Vault's layout for AEAD ciphertexts: nonce || ciphertext || tag. */
function seal(
  cipher: AeadCipher,
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array = randomNonce(),
): Buffer {
  const c = createCipheriv(cipher as 'aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
  if (aad.length) c.setAAD(aad);
  const body = c.update(plaintext);
  c.final();
  const out = Buffer.allocUnsafe(NONCE_LEN + body.length + TAG_LEN);
  out.set(nonce, 0);
  out.set(body, NONCE_LEN);
  out.set(c.getAuthTag(), NONCE_LEN + body.length);
  return out;
}

function open(cipher: AeadCipher, key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < NONCE_LEN + TAG_LEN) throw invalid('invalid ciphertext length');
  const d = createDecipheriv(cipher as 'aes-256-gcm', key, sealed.subarray(0, NONCE_LEN), { authTagLength: TAG_LEN });
  if (aad.length) d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
  const body = d.update(sealed.subarray(NONCE_LEN, sealed.length - TAG_LEN));
  try {
    d.final();
  } catch {
    throw authFailed();
  }
  return body;
}

function aead(cipher: AeadCipher, secret: Uint8Array): Material {
  const key = Buffer.from(secret);
  return {
    encrypt: (plaintext, aad, nonce) => seal(cipher, key, plaintext, aad, nonce),
    decrypt: (sealed, aad) => open(cipher, key, sealed, aad),
    exportSecret: (kind) => (kind === 'encryption-key' ? key.toString('base64') : undefined),
  };
}

const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

function ed25519Signer(privateKey: KeyObject, publicKey: KeyObject) {
  return {
    sign: (input: Uint8Array) => nodeSign(null, input, privateKey),
    verify: (input: Uint8Array, signature: Buffer) => {
      try {
        return nodeVerify(null, input, publicKey, signature);
      } catch {
        return false; // a malformed signature is simply not valid
      }
    },
  };
}

/**
 * ECDSA through node:crypto, which hashes the input itself; a prehashed input (a digest made by the
 * caller, as cosign sends) goes to noble, which signs a digest as given.
 */
function ecdsaSigner(privateKey: KeyObject, publicKey: KeyObject) {
  const jwk = privateKey.export({ format: 'jwk' });
  const scalar = Buffer.from(jwk.d as string, 'base64url');
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x as string, 'base64url'),
    Buffer.from(jwk.y as string, 'base64url'),
  ]);
  const format = (o: SignOptions) => (o.marshaling === 'jws' ? 'compact' : 'der');
  const dsaEncoding = (o: SignOptions) => (o.marshaling === 'jws' ? 'ieee-p1363' : 'der');
  return {
    sign: (input: Uint8Array, o: SignOptions) =>
      o.prehashed
        ? Buffer.from(p256.sign(input, scalar, { prehash: false, format: format(o) }))
        : nodeSign(o.hash, input, { key: privateKey, dsaEncoding: dsaEncoding(o) }),
    verify: (input: Uint8Array, signature: Buffer, o: SignOptions) => {
      try {
        return o.prehashed
          ? p256.verify(signature, input, point, { prehash: false, lowS: false, format: format(o) })
          : nodeVerify(o.hash, input, { key: publicKey, dsaEncoding: dsaEncoding(o) }, signature);
      } catch {
        return false;
      }
    },
  };
}

const generateKeyPairAsync = promisify(generateKeyPair);
const HASH_LEN: Record<string, number> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  'sha3-224': 28,
  'sha3-256': 32,
  'sha3-384': 48,
  'sha3-512': 64,
};

/**
 * RSA as Vault's transit: OAEP with SHA-256 for encryption, PSS or PKCS#1 v1.5 signatures. Key
 * generation runs off the event loop (a 4096-bit key takes seconds). Material: PKCS#8 DER.
 */
function rsaAlgorithm(bits: 2048 | 3072 | 4096): Algorithm {
  return {
    encryption: true,
    signing: true,
    aead: false,
    publicName: `rsa-${bits}`,
    generate: async () => {
      const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits });
      return privateKey.export({ format: 'der', type: 'pkcs8' });
    },
    load(der) {
      const priv = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
      const pub = createPublicKey(priv);
      const pss = (o: SignOptions, signing: boolean) => {
        if (o.signatureAlgorithm !== 'pss') return { padding: constants.RSA_PKCS1_PADDING };
        const saltLength =
          o.saltLength === 'hash'
            ? (HASH_LEN[o.hash] ?? 32)
            : o.saltLength === 'auto'
              ? signing
                ? constants.RSA_PSS_SALTLEN_MAX_SIGN
                : constants.RSA_PSS_SALTLEN_AUTO
              : o.saltLength;
        return { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
      };
      return {
        publicKey: pub.export({ format: 'pem', type: 'spki' }) as string,
        encrypt(plaintext) {
          try {
            return publicEncrypt(
              { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
              plaintext,
            );
          } catch {
            throw invalid(`failed to RSA encrypt the plaintext: message too long for RSA key size (${bits} bits)`);
          }
        },
        decrypt(sealed) {
          try {
            return privateDecrypt({ key: priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sealed);
          } catch {
            throw invalid('failed to RSA decrypt the ciphertext: crypto/rsa: decryption error');
          }
        },
        sign: (input, o) => {
          try {
            return nodeSign(o.hash, input, { key: priv, ...pss(o, true) });
          } catch (e) {
            throw invalid(`failed to sign: ${(e as Error).message}`);
          }
        },
        verify: (input, signature, o) => {
          try {
            return nodeVerify(o.hash, input, { key: pub, ...pss(o, false) }, signature);
          } catch {
            return false;
          }
        },
        exportSecret: (kind) =>
          kind === 'signing-key' || kind === 'encryption-key'
            ? (priv.export({ format: 'pem', type: 'pkcs1' }) as string)
            : undefined,
      };
    },
  };
}

const ALGORITHMS: Record<KeyType, Algorithm> = {
  'aes256-gcm96': {
    encryption: true,
    signing: false,
    aead: true,
    generate: () => randomBytes(32),
    load: (s) => aead('aes-256-gcm', s),
  },
  'chacha20-poly1305': {
    encryption: true,
    signing: false,
    aead: true,
    generate: () => randomBytes(32),
    load: (s) => aead('chacha20-poly1305', s),
  },
  ed25519: {
    encryption: false,
    signing: true,
    aead: false,
    publicName: 'ed25519',
    // The 32-byte seed (RFC 8032's private key).
    generate: () => generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16),
    load(seed) {
      const priv = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
      const pub = createPublicKey(priv);
      const raw = pub.export({ format: 'der', type: 'spki' }).subarray(12);
      return {
        publicKey: raw.toString('base64'),
        ...ed25519Signer(priv, pub),
        // Go's (and Vault's) ed25519 private key: seed || public key.
        exportSecret: (kind) => (kind === 'signing-key' ? Buffer.concat([seed, raw]).toString('base64') : undefined),
      };
    },
  },
  'ecdsa-p256': {
    encryption: false,
    signing: true,
    aead: false,
    publicName: 'P-256',
    // PKCS#8 DER.
    generate: () =>
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }),
    load(der) {
      const priv = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
      const pub = createPublicKey(priv);
      return {
        publicKey: pub.export({ format: 'pem', type: 'spki' }) as string,
        ...ecdsaSigner(priv, pub),
        exportSecret: (kind) =>
          kind === 'signing-key' ? (priv.export({ format: 'pem', type: 'sec1' }) as string) : undefined,
      };
    },
  },
  'ml-dsa-65': {
    encryption: false,
    signing: true,
    aead: false,
    publicName: 'ml-dsa-65',
    // The 32-byte FIPS 204 seed: the expanded key (4 KiB) is derived from it on load.
    generate: () => randomBytes(32),
    load(seed) {
      const { secretKey, publicKey } = ml_dsa65.keygen(seed);
      return {
        publicKey: Buffer.from(publicKey).toString('base64'),
        sign: (input) => Buffer.from(ml_dsa65.sign(input, secretKey)),
        verify: (input, signature) => {
          try {
            return ml_dsa65.verify(signature, input, publicKey);
          } catch {
            return false;
          }
        },
        exportSecret: (kind) => (kind === 'signing-key' ? Buffer.from(seed).toString('base64') : undefined),
      };
    },
  },
  'ml-kem-768': {
    encryption: true,
    signing: false,
    aead: true,
    publicName: 'ml-kem-768+x25519',
    generate: generateHybridSecret,
    load(secret) {
      const hybrid = loadHybridKey(secret);
      // The payload: AES-256-GCM under the encapsulated key. Layout: encapsulation || nonce || ct || tag.
      return {
        publicKey: Buffer.from(hybrid.publicKey).toString('base64'),
        encrypt(plaintext, aad) {
          const { encapsulation, sharedKey } = hybridEncapsulate(hybrid);
          try {
            return Buffer.concat([encapsulation, seal('aes-256-gcm', sharedKey, plaintext, aad)]);
          } finally {
            sharedKey.fill(0);
          }
        },
        decrypt(sealed, aad) {
          if (sealed.length < HYBRID_ENCAPSULATION_LEN + NONCE_LEN + TAG_LEN) {
            throw invalid('invalid ciphertext length');
          }
          let sharedKey: Uint8Array;
          try {
            sharedKey = hybridDecapsulate(hybrid, sealed.subarray(0, HYBRID_ENCAPSULATION_LEN));
          } catch {
            throw authFailed(); // e.g. an X25519 point of small order
          }
          try {
            return open('aes-256-gcm', sharedKey, sealed.subarray(HYBRID_ENCAPSULATION_LEN), aad);
          } finally {
            sharedKey.fill(0);
          }
        },
        exportSecret: (kind) => (kind === 'encryption-key' ? Buffer.from(secret).toString('base64') : undefined),
      };
    },
  },
  'rsa-2048': rsaAlgorithm(2048),
  'rsa-3072': rsaAlgorithm(3072),
  'rsa-4096': rsaAlgorithm(4096),
  hmac: {
    encryption: false,
    signing: false,
    aead: false,
    generate: (size) => randomBytes(size),
    load: () => ({ exportSecret: () => undefined }),
  },
};

export const HASHES: Record<string, string> = {
  sha1: 'sha1',
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
  'sha3-224': 'sha3-224',
  'sha3-256': 'sha3-256',
  'sha3-384': 'sha3-384',
  'sha3-512': 'sha3-512',
};

/** `vault:v3:...` → version 3 and the text after the prefix; errors worded as Vault's. */
function splitVersioned(value: string, what: string, latest: number, minVersion: number) {
  if (!value.startsWith('vault:v')) throw invalid(`invalid ${what}: no prefix`);
  const colon = value.indexOf(':', 7);
  if (colon < 0) throw invalid(`invalid ${what}: wrong number of fields`);
  // Digits by hand: this runs on every decrypt and verify.
  let version = 0;
  for (let i = 7; i < colon; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9 || i > 15) throw invalid(`invalid ${what}: version number could not be decoded`);
    version = version * 10 + digit;
  }
  if (colon === 7) throw invalid(`invalid ${what}: version number could not be decoded`);
  // Version 0 is Vault's compatibility spelling of version 1.
  if (version === 0) version = 1;
  if (version > latest) throw invalid(`invalid ${what}: version is too new`);
  if (version < minVersion) throw invalid(ERR_TOO_OLD);
  return { version, body: value.slice(colon + 1) };
}

/**
 * Standard base64 as Go's decoder takes it. node:crypto skips characters that are not base64 and
 * accepts the URL-safe alphabet, so a skipped character shows as a shorter result, and the
 * URL-safe ones are looked for (cheaper than a regular expression over the whole text).
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (bytes.length !== (text.length / 4) * 3 - padding || text.includes('-') || text.includes('_')) return undefined;
  return bytes;
}

/** Where Go's base64 decoder would stop, for its error text. */
export function base64ErrorAt(text: string): number {
  const bad = text.search(/[^A-Za-z0-9+/=]|=[^=]/);
  return bad >= 0 ? bad : text.length - (text.length % 4 || 4);
}

export interface KeyInfoOptions {
  type: KeyType;
  exportable: boolean;
  keySize?: number;
  allowPlaintextBackup?: boolean;
  derived?: boolean;
  convergent?: boolean;
}

const DERIVABLE: readonly KeyType[] = ['aes256-gcm96', 'chacha20-poly1305'];
const MISSING_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

/**
 * A loaded key. Immutable once built: a change (rotate, config) makes a new TransitKey that
 * shares the decoded material of unchanged versions, so requests in flight keep a consistent view.
 */
export class TransitKey {
  private readonly materials: Map<number, Material>;
  private readonly hmacKeys: Map<number, Buffer>;
  readonly algorithm: Algorithm;

  constructor(
    readonly policy: Readonly<StoredKey>,
    inherited?: TransitKey,
  ) {
    this.algorithm = ALGORITHMS[policy.type];
    this.materials = new Map(inherited?.materials);
    this.hmacKeys = new Map(inherited?.hmacKeys);
  }

  static async create(name: string, opts: KeyInfoOptions): Promise<TransitKey> {
    if (opts.convergent && !opts.derived) {
      throw invalid('convergent encryption requires derivation to be enabled, so context is required');
    }
    if (opts.derived && !DERIVABLE.includes(opts.type)) {
      throw invalid(`key derivation and convergent encryption not supported for keys of type ${opts.type}`);
    }
    return new TransitKey({
      name,
      type: opts.type,
      latest_version: 1,
      min_decryption_version: 1,
      min_encryption_version: 0,
      deletion_allowed: false,
      exportable: opts.exportable,
      ...(opts.type === 'hmac' ? { key_size: opts.keySize ?? 32 } : {}),
      ...(opts.allowPlaintextBackup ? { allow_plaintext_backup: true } : {}),
      ...(opts.derived ? { derived: true } : {}),
      ...(opts.convergent ? { convergent_encryption: true } : {}),
      versions: { '1': await newVersion(opts.type, opts.keySize ?? 32) },
    });
  }

  get name(): string {
    return this.policy.name;
  }
  get type(): KeyType {
    return this.policy.type;
  }

  async rotated(): Promise<TransitKey> {
    const v = this.policy.latest_version + 1;
    const version = await newVersion(this.type, this.policy.key_size ?? 32);
    return new TransitKey(
      { ...this.policy, latest_version: v, versions: { ...this.policy.versions, [String(v)]: version } },
      this,
    );
  }

  with(changes: Partial<StoredKey>): TransitKey {
    return new TransitKey({ ...this.policy, ...changes }, this);
  }

  private version(v: number): KeyVersion {
    const kv = this.policy.versions[String(v)];
    if (!kv) throw new VaultError('internal', `key ${this.name} has no version ${v}`);
    return kv;
  }

  private material(v: number): Material {
    let m = this.materials.get(v);
    if (!m) {
      m = this.algorithm.load(Buffer.from(this.version(v).key, 'base64'));
      this.materials.set(v, m);
    }
    return m;
  }

  private hmacKey(v: number): Buffer {
    let k = this.hmacKeys.get(v);
    if (!k) {
      const kv = this.version(v);
      k = Buffer.from(this.type === 'hmac' ? kv.key : kv.hmac_key, 'base64');
      this.hmacKeys.set(v, k);
    }
    return k;
  }

  /** The version a new ciphertext, signature or HMAC uses, checked as Vault checks it. */
  private writeVersion(requested: number, purpose: string): number {
    const p = this.policy;
    if (requested === 0) return p.latest_version;
    if (requested < 0) throw invalid(`requested version for ${purpose} is negative`);
    if (requested > p.latest_version) {
      throw invalid(`requested version for ${purpose} is higher than the latest key version`);
    }
    if (requested < p.min_encryption_version) {
      throw invalid(`requested version for ${purpose} is less than the minimum encryption key version`);
    }
    return requested;
  }

  encrypt(
    plaintext: Uint8Array,
    aad: Uint8Array,
    requested = 0,
    context?: Uint8Array,
  ): { ciphertext: string; key_version: number } {
    if (!this.algorithm.encryption) throw invalid(`message encryption not supported for key type ${this.type}`);
    const v = this.writeVersion(requested, 'encryption');
    let sealed: Buffer;
    if (this.policy.derived) {
      const { material, nonceKey } = this.derived(v, context);
      // Convergent: the nonce is a MAC of the plaintext, so the same input gives the same output.
      const nonce = this.policy.convergent_encryption
        ? createHmac('sha256', nonceKey).update(plaintext).digest().subarray(0, NONCE_LEN)
        : undefined;
      sealed = material.encrypt?.(plaintext, aad, nonce) as Buffer;
    } else {
      sealed = this.material(v).encrypt?.(plaintext, aad) as Buffer;
    }
    return { ciphertext: `vault:v${v}:${sealed.toString('base64')}`, key_version: v };
  }

  decrypt(ciphertext: string, aad: Uint8Array, context?: Uint8Array): Buffer {
    if (!this.algorithm.encryption) throw invalid(`message decryption not supported for key type ${this.type}`);
    const p = this.policy;
    const { version, body } = splitVersioned(ciphertext, 'ciphertext', p.latest_version, p.min_decryption_version);
    const sealed = decodeBase64(body);
    if (!sealed) throw invalid('invalid ciphertext: could not decode base64');
    const material = p.derived ? this.derived(version, context).material : this.material(version);
    return material.decrypt?.(sealed, aad) as Buffer;
  }

  /** A derived key's material for one context (HKDF-SHA256 of the version's key, info = context). */
  private derived(v: number, context: Uint8Array | undefined): { material: Material; nonceKey: Buffer } {
    if (!context || context.length === 0) throw invalid(MISSING_CONTEXT);
    const root = Buffer.from(this.version(v).key, 'base64');
    const key = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), context, 32));
    const nonceKey = Buffer.from(hkdfSync('sha256', root, Buffer.from('convergent nonce'), context, 32));
    return { material: this.algorithm.load(key), nonceKey };
  }

  sign(input: Uint8Array, opts: SignOptions, requested = 0): { signature: string; key_version: number } {
    if (!this.algorithm.signing) throw invalid(`key type ${this.type} does not support signing`);
    const v = this.writeVersion(requested, 'signing');
    const sig = this.material(v).sign?.(input, opts) as Buffer;
    const text = opts.marshaling === 'jws' ? sig.toString('base64url') : sig.toString('base64');
    return { signature: `vault:v${v}:${text}`, key_version: v };
  }

  verify(input: Uint8Array, signature: string, opts: SignOptions): boolean {
    if (!this.algorithm.signing) throw invalid(`key type ${this.type} does not support verification`);
    const p = this.policy;
    const { version, body } = splitVersioned(signature, 'signature', p.latest_version, p.min_decryption_version);
    const sig =
      opts.marshaling === 'jws' && /^[A-Za-z0-9_-]*$/.test(body) ? Buffer.from(body, 'base64url') : decodeBase64(body);
    if (!sig) throw invalid('invalid signature: could not decode base64');
    return this.material(version).verify?.(input, sig, opts) as boolean;
  }

  hmac(input: Uint8Array, hash: string, requested = 0): { hmac: string; key_version: number } {
    const v = this.writeVersion(requested, 'HMAC');
    const mac = createHmac(hash, this.hmacKey(v)).update(input).digest('base64');
    return { hmac: `vault:v${v}:${mac}`, key_version: v };
  }

  verifyHmac(input: Uint8Array, hmac: string, hash: string): boolean {
    const p = this.policy;
    const { version, body } = splitVersioned(hmac, 'HMAC', p.latest_version, p.min_decryption_version);
    const given = decodeBase64(body);
    if (!given) throw invalid('invalid HMAC: could not decode base64');
    const want = createHmac(hash, this.hmacKey(version)).update(input).digest();
    return given.length === want.length && timingSafeEqual(given, want);
  }

  /** Versions a read shows: those that may still decrypt or verify. */
  liveVersions(): number[] {
    const out: number[] = [];
    for (let v = this.policy.min_decryption_version; v <= this.policy.latest_version; v++) out.push(v);
    return out;
  }

  publicKey(v: number): string | undefined {
    return this.algorithm.publicName ? this.material(v).publicKey : undefined;
  }

  /** One version's material in Vault's export format, or undefined when the type has none of that kind. */
  exported(kind: 'encryption-key' | 'signing-key' | 'hmac-key' | 'public-key', v: number): string | undefined {
    if (kind === 'hmac-key') return this.hmacKey(v).toString('base64');
    if (kind === 'public-key') return this.publicKey(v);
    return this.material(v).exportSecret(kind);
  }

  /** Vault's key read response (no secret material). */
  describe(): Record<string, unknown> {
    const p = this.policy;
    const keys: Record<string, unknown> = {};
    for (const v of this.liveVersions()) {
      const kv = this.version(v);
      keys[String(v)] = this.algorithm.publicName
        ? { name: this.algorithm.publicName, public_key: this.publicKey(v), creation_time: kv.creation_time }
        : Math.floor(Date.parse(kv.creation_time) / 1000);
    }
    return {
      name: p.name,
      type: p.type,
      keys,
      latest_version: p.latest_version,
      min_available_version: 0,
      min_decryption_version: p.min_decryption_version,
      min_encryption_version: p.min_encryption_version,
      deletion_allowed: p.deletion_allowed,
      exportable: p.exportable,
      allow_plaintext_backup: p.allow_plaintext_backup === true,
      derived: p.derived === true,
      ...(p.derived ? { kdf: 'hkdf_sha256', convergent_encryption: p.convergent_encryption === true } : {}),
      supports_encryption: this.algorithm.encryption,
      supports_decryption: this.algorithm.encryption,
      supports_signing: this.algorithm.signing,
      supports_derivation: DERIVABLE.includes(p.type),
      auto_rotate_period: 0,
      imported_key: false,
      ...(p.key_size !== undefined ? { key_size: p.key_size } : {}),
    };
  }
}

async function newVersion(type: KeyType, size: number): Promise<KeyVersion> {
  return {
    creation_time: new Date().toISOString(),
    key: Buffer.from(await ALGORITHMS[type].generate(size)).toString('base64'),
    hmac_key: randomBytes(32).toString('base64'),
  };
}

/** Whether stored material parses as a key of its type (a restored backup is checked with it). */
export function checkKeyMaterial(p: StoredKey): void {
  for (const [v, kv] of Object.entries(p.versions)) {
    if (!/^\d+$/.test(v) || typeof kv?.key !== 'string' || typeof kv.hmac_key !== 'string') {
      throw invalid(`backup: version ${v} is malformed`);
    }
    try {
      ALGORITHMS[p.type].load(Buffer.from(kv.key, 'base64'));
    } catch {
      throw invalid(`backup: version ${v} does not hold a ${p.type} key`);
    }
  }
}

export const supportsAssociatedData = (type: KeyType) => ALGORITHMS[type].aead;
export const supportsEncryption = (type: KeyType) => ALGORITHMS[type].encryption;
export const supportsDerivation = (type: KeyType) => DERIVABLE.includes(type);
