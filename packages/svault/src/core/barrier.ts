import { timingSafeEqual } from 'node:crypto';
import { CIPHER, type CryptoSuite, deriveKey, hmacSha256, NONCE_LEN, randomKey, randomNonce } from './crypto.js';
import { invalid, sealedError, VaultError } from './errors.js';
import { HYBRID_VERSION, hybridUnwrap, hybridWrap } from './keywrap.js';
import { applyBatch, type Storage, type StorageOp } from './storage.js';

/**
 * The barrier: everything above it sees plaintext logical entries, everything below it
 * (storage) sees ciphertext only.
 *
 * - Values: AEAD with the keyring's active term; the blob names its term, so entries written
 *   before `rotate` stay readable. The logical path is the AAD: a file moved to another
 *   path fails to decrypt instead of being served as the wrong secret.
 * - Keyring: a JSON document encrypted with the root key (from the unseal keys) at
 *   `core/keyring`. Its authentication tag is the check value that tells a correct root
 *   key from garbage combined out of wrong shares.
 * - Paths: each segment is encrypted deterministically (SIV-like: nonce = HMAC of the
 *   segment, then AEAD; padded to 16 bytes) with a path key from the keyring. Storage thus
 *   keeps the folder shape, so backends can list by prefix natively, while names stay
 *   hidden; identical names give identical segments, which listing needs and which reveals
 *   only equality. The path key is never rotated: that would mean rewriting every key.
 */

const ENTRY_VERSION = 1;
const KEYRING_PATH = 'core/keyring';
const LOGICAL = 'logical/';
/** Longest logical path segment: its encrypted form must fit a file name (255 bytes). */
export const MAX_SEGMENT_BYTES = 143;
/**
 * Longest physical key: with the data directory in front it must stay under PATH_MAX (4096).
 * Each segment grows when encrypted (at least 60 characters), so many short segments can pass
 * the logical length check and still be too long here.
 */
export const MAX_PHYSICAL_KEY = 3072;

export interface KeyringTerm {
  term: number;
  key: Uint8Array;
  installed: string;
}

interface Keyring {
  activeTerm: number;
  terms: Map<number, KeyringTerm>;
  pathKey: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

export type LogicalOp = { op: 'put'; path: string; value: Uint8Array } | { op: 'delete'; path: string };

export interface LogicalStore {
  get(path: string): Promise<Uint8Array | undefined>;
  put(path: string, value: Uint8Array): Promise<void>;
  delete(path: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** Writes and deletes in order, as one unit where storage can (see Storage.batch). */
  batch?(ops: LogicalOp[]): Promise<void>;
}

export class Barrier implements LogicalStore {
  private keyring: Keyring | undefined;
  private pathMac: Uint8Array | undefined;
  private pathEnc: Uint8Array | undefined;
  /** Path segment → its encrypted form: each name is encrypted once, not on every access. */
  private readonly segmentNames = new Map<string, string>();
  /** Whole logical path → physical name, for the paths in use. */
  private readonly physicalNames = new Map<string, string>();
  /**
   * Plaintexts of entries read, keyed by the very ciphertext object storage returned: the storage
   * cache hands back the same object until the entry changes, so a changed entry is a miss, and
   * an entry leaves with its ciphertext. Decrypting was the largest cost of a read (node:crypto
   * spends ~11 µs setting up each AES-GCM call). It holds nothing that the keyring in this
   * process could not decrypt anyway, and is dropped at seal.
   */
  private opened = new WeakMap<Uint8Array, { path: string; plain: Uint8Array }>();

  constructor(
    readonly storage: Storage,
    private readonly suite: CryptoSuite,
  ) {}

  get sealed(): boolean {
    return this.keyring === undefined;
  }

  async initialized(): Promise<boolean> {
    return (await this.storage.get(KEYRING_PATH)) !== undefined;
  }

  /** Creates the keyring under `rootKey` and leaves the barrier unsealed. */
  async initialize(rootKey: Uint8Array): Promise<void> {
    if (await this.initialized()) throw invalid('Vault is already initialized');
    const keyring: Keyring = {
      activeTerm: 1,
      terms: new Map([[1, { term: 1, key: randomKey(), installed: new Date().toISOString() }]]),
      pathKey: randomKey(),
    };
    await this.writeKeyring(rootKey, keyring);
    this.install(keyring);
  }

  /** Opens the keyring; throws 'invalid unseal keys' when `rootKey` does not authenticate it. */
  async unseal(rootKey: Uint8Array): Promise<void> {
    const blob = await this.storage.get(KEYRING_PATH);
    if (!blob) throw invalid('Vault is not initialized');
    let plain: Uint8Array;
    try {
      plain = this.openKeyring(rootKey, blob);
    } catch {
      throw invalid('invalid unseal keys: they do not combine into the root key');
    }
    const doc = JSON.parse(dec.decode(plain)) as {
      active_term: number;
      terms: { term: number; key: string; installed: string }[];
      path_key: string;
    };
    const keyring: Keyring = {
      activeTerm: doc.active_term,
      terms: new Map(doc.terms.map((t) => [t.term, { term: t.term, key: unb64(t.key), installed: t.installed }])),
      pathKey: unb64(doc.path_key),
    };
    plain.fill(0);
    // The configured backend changed (e.g. openssl → pqc): re-wrap the keyring to match.
    if ((blob[0] === HYBRID_VERSION) !== (this.suite.backend === 'pqc')) await this.writeKeyring(rootKey, keyring);
    this.install(keyring);
  }

  /** Checks a root key without changing state (used before replacing it). */
  async verifyRootKey(rootKey: Uint8Array): Promise<boolean> {
    const blob = await this.storage.get(KEYRING_PATH);
    if (!blob) return false;
    try {
      this.openKeyring(rootKey, blob);
      return true;
    } catch {
      return false;
    }
  }

  seal(): void {
    if (this.keyring) {
      for (const t of this.keyring.terms.values()) t.key.fill(0);
      this.keyring.pathKey.fill(0);
    }
    this.pathMac?.fill(0);
    this.pathEnc?.fill(0);
    this.keyring = undefined;
    this.pathMac = undefined;
    this.pathEnc = undefined;
    this.segmentNames.clear();
    this.physicalNames.clear();
    this.opened = new WeakMap();
  }

  /** Adds a keyring term that encrypts from now on; older terms keep decrypting. */
  async rotate(rootKey: Uint8Array): Promise<{ term: number; installed: string }> {
    const kr = this.requireKeyring();
    const term = Math.max(...kr.terms.keys()) + 1;
    const entry = { term, key: randomKey(), installed: new Date().toISOString() };
    const next: Keyring = { ...kr, activeTerm: term, terms: new Map([...kr.terms, [term, entry]]) };
    await this.writeKeyring(rootKey, next);
    this.keyring = next;
    return { term, installed: entry.installed };
  }

  /**
   * The write that stores the keyring under a new root key (rekey), for the caller to commit in
   * one batch with the new seal configuration: once written, the old root key no longer opens it.
   */
  rewrappedKeyring(rootKey: Uint8Array): StorageOp {
    return { op: 'put', key: KEYRING_PATH, value: this.keyringBlob(rootKey, this.requireKeyring()) };
  }

  /**
   * The active term, and how the keyring is wrapped under the root key: it matches the configured backend once
   * unsealed (a backend change re-wraps it at unseal), so operators can check a post-quantum migration.
   */
  keyStatus(): { term: number; install_time: string; terms: number; keyring_wrap: string } {
    const kr = this.requireKeyring();
    const t = kr.terms.get(kr.activeTerm) as KeyringTerm;
    const aead = this.suite.default.id === CIPHER['aes-256-gcm'] ? 'aes-256-gcm' : 'chacha20-poly1305';
    const keyring_wrap = this.suite.backend === 'pqc' ? `ml-kem-768+x25519 (${aead})` : aead;
    return { term: t.term, install_time: t.installed, terms: kr.terms.size, keyring_wrap };
  }

  /** A key for one purpose (token hashing, audit HMAC...), stable across rotations. */
  derivedKey(purpose: string): Uint8Array {
    return deriveKey(this.requireKeyring().pathKey, `svault ${purpose}`);
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    const kr = this.requireKeyring();
    const blob = await this.storage.get(this.physical(path));
    if (!blob) return undefined;
    const seen = this.opened.get(blob);
    if (seen?.path === path) return seen.plain.slice();
    const plain = this.openEntry(kr, blob, path);
    this.opened.set(blob, { path, plain: plain.slice() });
    return plain;
  }

  private openEntry(kr: Keyring, blob: Uint8Array, path: string): Uint8Array {
    if (blob[0] !== ENTRY_VERSION || blob.length < 6 + NONCE_LEN) throw new VaultError('internal', 'corrupt entry');
    const term = new DataView(blob.buffer, blob.byteOffset).getUint32(2);
    const t = kr.terms.get(term);
    if (!t) throw new VaultError('internal', `entry encrypted with unknown keyring term ${term}`);
    try {
      return this.openBlob(t.key, blob, path, 4);
    } catch {
      throw new VaultError('internal', 'entry failed authentication: storage was changed outside svault');
    }
  }

  async put(path: string, value: Uint8Array): Promise<void> {
    const kr = this.requireKeyring();
    const t = kr.terms.get(kr.activeTerm) as KeyringTerm;
    const termBytes = new Uint8Array(4);
    new DataView(termBytes.buffer).setUint32(0, t.term);
    await this.storage.put(this.physical(path), this.sealBlob(t.key, value, path, termBytes));
  }

  async delete(path: string): Promise<void> {
    this.requireKeyring();
    await this.storage.delete(this.physical(path));
  }

  async batch(ops: LogicalOp[]): Promise<void> {
    const kr = this.requireKeyring();
    const t = kr.terms.get(kr.activeTerm) as KeyringTerm;
    const termBytes = new Uint8Array(4);
    new DataView(termBytes.buffer).setUint32(0, t.term);
    const physical: StorageOp[] = ops.map((o) =>
      o.op === 'put'
        ? { op: 'put', key: this.physical(o.path), value: this.sealBlob(t.key, o.value, o.path, termBytes) }
        : { op: 'delete', key: this.physical(o.path) },
    );
    await applyBatch(this.storage, physical);
  }

  async list(prefix: string): Promise<string[]> {
    this.requireKeyring();
    if (prefix !== '' && !prefix.endsWith('/')) throw new Error('list prefix must end with /');
    const physicalPrefix = prefix === '' ? LOGICAL : `${this.physical(prefix.slice(0, -1))}/`;
    const names = await this.storage.list(physicalPrefix);
    return names
      .map((n) => (n.endsWith('/') ? `${this.decryptSegment(n.slice(0, -1))}/` : this.decryptSegment(n)))
      .sort();
  }

  /** A view of everything under `prefix` (ending in '/'), e.g. one mount's storage. */
  view(prefix: string): LogicalStore {
    return {
      get: (p) => this.get(prefix + p),
      put: (p, v) => this.put(prefix + p, v),
      delete: (p) => this.delete(prefix + p),
      list: (p) => this.list(prefix + p),
      batch: (ops) => this.batch(ops.map((o) => ({ ...o, path: prefix + o.path }))),
    };
  }

  private requireKeyring(): Keyring {
    if (!this.keyring) throw sealedError();
    return this.keyring;
  }

  private install(kr: Keyring): void {
    this.keyring = kr;
    this.pathMac = deriveKey(kr.pathKey, 'svault path mac');
    this.pathEnc = deriveKey(kr.pathKey, 'svault path enc');
  }

  private async writeKeyring(rootKey: Uint8Array, kr: Keyring): Promise<void> {
    await this.storage.put(KEYRING_PATH, this.keyringBlob(rootKey, kr));
  }

  private keyringBlob(rootKey: Uint8Array, kr: Keyring): Uint8Array {
    const doc = {
      active_term: kr.activeTerm,
      terms: [...kr.terms.values()].map((t) => ({ term: t.term, key: b64(t.key), installed: t.installed })),
      path_key: b64(kr.pathKey),
    };
    const plain = enc.encode(JSON.stringify(doc));
    const blob =
      this.suite.backend === 'pqc'
        ? hybridWrap(this.suite.default, rootKey, plain, KEYRING_PATH)
        : this.sealBlob(rootKey, plain, KEYRING_PATH);
    plain.fill(0);
    return blob;
  }

  /** Either wrap, whatever the configured backend: switching backends keeps a vault openable. */
  private openKeyring(rootKey: Uint8Array, blob: Uint8Array): Uint8Array {
    if (blob[0] === HYBRID_VERSION) return hybridUnwrap((id) => this.suite.aead(id), rootKey, blob, KEYRING_PATH);
    return this.openBlob(rootKey, blob, KEYRING_PATH);
  }

  /** [version][cipher][extra...][nonce][ciphertext+tag]; the header is authenticated too. */
  private sealBlob(key: Uint8Array, plain: Uint8Array, path: string, extra = new Uint8Array(0)): Uint8Array {
    const aead = this.suite.default;
    const header = new Uint8Array([ENTRY_VERSION, aead.id, ...extra]);
    const nonce = randomNonce();
    const ct = aead.seal(key, nonce, plain, concat(header, enc.encode(path)));
    return concat(header, nonce, ct);
  }

  private openBlob(key: Uint8Array, blob: Uint8Array, path: string, extraLen = 0): Uint8Array {
    const headerLen = 2 + extraLen;
    const header = blob.subarray(0, headerLen);
    const nonce = blob.subarray(headerLen, headerLen + NONCE_LEN);
    const aead = this.suite.aead(blob[1] ?? 0);
    return aead.open(key, nonce, blob.subarray(headerLen + NONCE_LEN), concat(header, enc.encode(path)));
  }

  private physical(path: string): string {
    const known = this.physicalNames.get(path);
    if (known !== undefined) return known;
    let name = LOGICAL;
    let first = true;
    for (const seg of path.split('/')) {
      let e = this.segmentNames.get(seg);
      if (e === undefined) {
        e = this.encryptSegment(seg);
        if (this.segmentNames.size >= 100_000) this.segmentNames.clear();
        this.segmentNames.set(seg, e);
      }
      name += first ? e : `/${e}`;
      first = false;
    }
    if (name.length > MAX_PHYSICAL_KEY) throw invalid('invalid path: too long (too many or too long segments)');
    if (this.physicalNames.size >= 50_000) this.physicalNames.clear();
    this.physicalNames.set(path, name);
    return name;
  }

  private encryptSegment(seg: string): string {
    const raw = enc.encode(seg);
    if (seg === '' || raw.length > MAX_SEGMENT_BYTES) {
      throw invalid(seg === '' ? 'invalid path: empty segment' : `path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
    // ISO/IEC 7816-4 padding to 16 bytes, so that names of similar length look alike.
    const padded = new Uint8Array(Math.ceil((raw.length + 1) / 16) * 16);
    padded.set(raw);
    padded[raw.length] = 0x80;
    const nonce = hmacSha256(this.pathMac as Uint8Array, raw).subarray(0, NONCE_LEN);
    const ct = this.suite.aead(1).seal(this.pathEnc as Uint8Array, nonce, padded, SEGMENT_AAD);
    return Buffer.from(concat(nonce, ct)).toString('base64url');
  }

  private decryptSegment(name: string): string {
    const raw = new Uint8Array(Buffer.from(name, 'base64url'));
    const nonce = raw.subarray(0, NONCE_LEN);
    const padded = this.suite.aead(1).open(this.pathEnc as Uint8Array, nonce, raw.subarray(NONCE_LEN), SEGMENT_AAD);
    const end = padded.lastIndexOf(0x80);
    const seg = padded.subarray(0, end);
    // The nonce is a MAC of the name: check it, so a swapped segment cannot pass.
    const expected = hmacSha256(this.pathMac as Uint8Array, seg).subarray(0, NONCE_LEN);
    if (!timingSafeEqual(expected, nonce)) throw new VaultError('internal', 'corrupt storage key');
    return dec.decode(seg);
  }
}

const SEGMENT_AAD = enc.encode('svault path segment');

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
