import { createHash, randomBytes } from 'node:crypto';
import * as z from '@stratumiops/shared/zod';
import type { LogicalStore } from '../barrier.js';
import { invalid, VaultError } from '../errors.js';
import { fBool, fDuration, fInt, fString } from '../fields.js';
import type { Backend, BackendFactory, HandlerResult, PathDef, RoutedRequest } from '../logical.js';
import { KeyedMutex } from '../storage.js';
import { VersionedCache } from '../versioned-cache.js';
import {
  base64ErrorAt,
  checkKeyMaterial,
  decodeBase64,
  HASHES,
  isKeyType,
  KEY_TYPES,
  type KeyType,
  type SignOptions,
  type StoredKey,
  supportsAssociatedData,
  supportsDerivation,
  supportsEncryption,
  TransitKey,
} from './transit/keys.js';

/**
 * The transit engine, as Vault's: named keys with versions (`keys/`), and encryption as a
 * service on them (`encrypt/`, `decrypt/`, `rewrap/`, `datakey/`, `sign/`, `verify/`, `hmac/`),
 * each with Vault's fields, `batch_input` and error texts. Beyond Vault: `ml-dsa-65` signing keys
 * and `ml-kem-768` hybrid (ML-KEM-768 + X25519) encryption keys.
 *
 * Layout in the mount's barrier view: `policy/<name>` (a key with all its versions' material),
 * `config/keys` (mount settings). Keys are decoded once and cached: this engine instance is the
 * only writer of its mount, and each write replaces the cached key.
 */

const NAME = '(?<name>\\w(?:[\\w.-]*\\w)?)';
const MAX_NAME = 128;
const ALGO = '(?:/(?<urlalgorithm>[\\w-]+))?';

const fList = () => z.array(z.unknown()).describe('a list');

interface MountConfig {
  disable_upsert: boolean;
}

/** One item of batch_input (or the single request), already checked for types. */
type Item = Record<string, unknown>;

interface ItemResult {
  error?: string;
  [k: string]: unknown;
}

/** A batch whose items failed: Vault answers with the results and 400 (or the caller's code). */
class BatchError extends VaultError {
  constructor(
    private readonly code: number,
    body: Record<string, unknown>,
  ) {
    super('invalid', '', { body });
  }
  override get status(): number {
    return this.code;
  }
}

export class TransitBackend implements Backend {
  readonly type = 'transit';
  readonly paths: PathDef[];
  private readonly cache = new VersionedCache<string, TransitKey | null>();
  private readonly loadKey = async (name: string): Promise<TransitKey | null> => {
    const raw = await this.store.get(`policy/${name}`);
    return raw ? new TransitKey(JSON.parse(Buffer.from(raw).toString('utf8')) as StoredKey) : null;
  };
  private readonly locks = new KeyedMutex();
  private config: MountConfig | undefined;

  constructor(private readonly store: LogicalStore) {
    const keyWrite = (r: RoutedRequest, f: Record<string, unknown>) => this.createKey(r.params.name as string, f);
    const configWrite = (r: RoutedRequest, f: Record<string, unknown>) => this.configureKey(r.params.name as string, f);
    const rotate = (r: RoutedRequest) => this.rotateKey(r.params.name as string);
    const encrypt = (r: RoutedRequest, f: Record<string, unknown>) => this.encrypt(r, f);
    const decrypt = (r: RoutedRequest, f: Record<string, unknown>) => this.decrypt(r, f);
    const rewrap = (r: RoutedRequest, f: Record<string, unknown>) => this.rewrap(r, f);
    const datakey = (r: RoutedRequest, f: Record<string, unknown>) => this.datakey(r, f);
    const sign = (r: RoutedRequest, f: Record<string, unknown>) => this.sign(r, f);
    const verify = (r: RoutedRequest, f: Record<string, unknown>) => this.verify(r, f);
    const hmac = (r: RoutedRequest, f: Record<string, unknown>) => this.hmac(r, f);
    const exists = async (p: Record<string, string>) => (await this.key(p.name as string)) !== undefined;
    const batch = { batch_input: fList(), partial_failure_response_code: fInt() };
    const signFields = {
      input: fString(),
      context: fString(),
      key_version: fInt(),
      hash_algorithm: fString(),
      algorithm: fString(),
      marshaling_algorithm: fString(),
      prehashed: fBool(),
      signature_algorithm: fString(),
      salt_length: fString(),
      batch_input: fList(),
    };
    // The operations first: the router tries patterns in order, and they are the hot paths.
    this.paths = [
      {
        pattern: new RegExp(`^encrypt/${NAME}$`),
        summary: 'Encrypt base64 plaintext into a vault:vN: ciphertext (creates the key when missing)',
        fields: {
          plaintext: fString(),
          context: fString(),
          associated_data: fString(),
          key_version: fInt(),
          type: fString(),
          ...batch,
        },
        existence: exists,
        operations: { create: encrypt, update: encrypt },
      },
      {
        pattern: new RegExp(`^decrypt/${NAME}$`),
        summary: 'Decrypt a vault:vN: ciphertext into base64 plaintext',
        fields: { ciphertext: fString(), context: fString(), associated_data: fString(), ...batch },
        operations: { create: decrypt, update: decrypt },
      },
      {
        pattern: new RegExp(`^rewrap/${NAME}$`),
        summary: "Re-encrypt a ciphertext under the key's latest version without revealing the plaintext",
        fields: {
          ciphertext: fString(),
          context: fString(),
          associated_data: fString(),
          key_version: fInt(),
          ...batch,
        },
        operations: { create: rewrap, update: rewrap },
      },
      {
        pattern: new RegExp(`^datakey/(?<kind>[^/]+)/${NAME}$`),
        summary: 'Generate a data key, returned wrapped by the named key (and in plaintext)',
        fields: { bits: fInt(), context: fString(), associated_data: fString(), key_version: fInt() },
        operations: { create: datakey, update: datakey },
      },
      {
        pattern: new RegExp(`^sign/${NAME}${ALGO}$`),
        summary: 'Sign base64 input with a signing key',
        fields: signFields,
        operations: { create: sign, update: sign },
      },
      {
        pattern: new RegExp(`^verify/${NAME}${ALGO}$`),
        summary: 'Verify a signature or an HMAC',
        fields: { ...signFields, signature: fString(), hmac: fString() },
        operations: { create: verify, update: verify },
      },
      {
        pattern: new RegExp(`^hmac/${NAME}${ALGO}$`),
        summary: 'HMAC base64 input with the key',
        fields: { input: fString(), key_version: fInt(), algorithm: fString(), batch_input: fList() },
        operations: { create: hmac, update: hmac },
      },
      {
        pattern: /^random(?:\/(?<source>platform|seal|all))?(?:\/(?<urlbytes>[^/]+))?$/,
        summary: 'Random bytes from the platform RNG (bytes, format base64|hex)',
        fields: { bytes: fInt(), format: fString(), source: fString() },
        operations: { create: (r, f) => randomData(r, f), update: (r, f) => randomData(r, f) },
      },
      {
        pattern: /^hash(?:\/(?<urlalgorithm>[^/]+))?$/,
        summary: 'Hash base64 input (algorithm, format hex|base64)',
        fields: { input: fString(), algorithm: fString(), format: fString() },
        operations: { create: (r, f) => hashData(r, f), update: (r, f) => hashData(r, f) },
      },
      {
        pattern: new RegExp(`^backup/${NAME}$`),
        summary: 'A backup of a key, every version (keys created exportable with allow_plaintext_backup)',
        operations: { read: (r) => this.backupKey(r.params.name as string) },
      },
      {
        pattern: new RegExp(`^restore(?:/${NAME})?$`),
        summary: 'Restore a key from a backup (force to replace an existing one)',
        fields: { backup: fString(), name: fString(), force: fBool() },
        operations: {
          create: (r, f) => this.restoreKey(r.params.name, f),
          update: (r, f) => this.restoreKey(r.params.name, f),
        },
      },
      {
        pattern: /^keys\/?$/,
        summary: 'List the named keys',
        operations: { list: () => this.listKeys() },
      },
      {
        pattern: new RegExp(`^keys/${NAME}$`),
        summary: 'Create, read or delete a named key',
        fields: {
          type: fString(),
          exportable: fBool(),
          derived: fBool(),
          convergent_encryption: fBool(),
          allow_plaintext_backup: fBool(),
          auto_rotate_period: fDuration(),
          key_size: fInt(),
        },
        existence: exists,
        operations: {
          read: async (r) => {
            const k = await this.key(r.params.name as string);
            return k ? { data: k.describe() } : null;
          },
          create: keyWrite,
          update: keyWrite,
          delete: (r) => this.deleteKey(r.params.name as string),
        },
      },
      {
        pattern: new RegExp(`^keys/${NAME}/config$`),
        summary: "A key's version limits, deletion and export permissions",
        fields: {
          min_decryption_version: fInt(),
          min_encryption_version: fInt(),
          deletion_allowed: fBool(),
          exportable: fBool(),
          allow_plaintext_backup: fBool(),
          auto_rotate_period: fDuration(),
        },
        operations: { create: configWrite, update: configWrite },
      },
      {
        pattern: new RegExp(`^keys/${NAME}/rotate$`),
        summary: 'Add a new version of a key; new operations use it',
        operations: { create: rotate, update: rotate },
      },
      {
        pattern: new RegExp(
          `^export/(?<kind>encryption-key|signing-key|hmac-key|public-key)/${NAME}(?:/(?<version>latest|\\d+))?$`,
        ),
        summary: "Export a key's material (only keys created exportable; public keys always)",
        operations: { read: (r) => this.exportKey(r.params) },
      },
      {
        pattern: /^config\/keys$/,
        summary: 'Mount settings: disable_upsert stops encrypt from creating missing keys',
        fields: { disable_upsert: fBool() },
        operations: {
          read: async () => ({ data: { ...(await this.mountConfig()) } }),
          create: (_r, f) => this.writeMountConfig(f),
          update: (_r, f) => this.writeMountConfig(f),
        },
      },
    ];
  }

  // --- keys ---

  /** The key (missing keys are not remembered: names anyone asks for must not fill the cache). */
  private async key(name: string): Promise<TransitKey | undefined> {
    return this.cache.get(name) ?? (await this.cache.read(name, this.loadKey, (k) => k !== null)) ?? undefined;
  }

  /** Stores the key, then caches it (a failed write leaves the old key in effect). */
  private async save(k: TransitKey): Promise<void> {
    await this.cache.write([k.name], async () => {
      await this.store.put(`policy/${k.name}`, Buffer.from(JSON.stringify(k.policy)));
      this.cache.set(k.name, k);
    });
  }

  private async listKeys(): Promise<HandlerResult> {
    const keys = await this.store.list('policy/');
    return keys.length ? { data: { keys } } : null;
  }

  private async createKey(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    checkName(name);
    const type = (f.type as string | undefined) ?? 'aes256-gcm96';
    if (!isKeyType(type)) throw invalid(`unknown key type ${type} (supported: ${KEY_TYPES.join(', ')})`);
    if (f.auto_rotate_period) throw invalid('auto_rotate_period is not supported: rotate with keys/<name>/rotate');
    const keySize = f.key_size as number | undefined;
    if (keySize !== undefined && keySize !== 0) {
      if (type !== 'hmac') throw invalid(`key_size is not valid for algorithm ${type}`);
      if (keySize < 32 || keySize > 512) throw invalid(`invalid key_size ${keySize}`);
    }
    return this.locks.run(name, async () => {
      const existing = await this.key(name);
      if (existing) return { data: existing.describe(), warnings: [`key ${name} already existed`] };
      const k = await TransitKey.create(name, {
        type,
        exportable: f.exportable === true,
        allowPlaintextBackup: f.allow_plaintext_backup === true,
        derived: f.derived === true,
        convergent: f.convergent_encryption === true,
        ...(keySize ? { keySize } : {}),
      });
      await this.save(k);
      return { data: k.describe() };
    });
  }

  private async deleteKey(name: string): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      const k = await this.key(name);
      if (!k) throw invalid(`error deleting policy ${name}: could not delete policy; not found`);
      if (!k.policy.deletion_allowed) {
        throw invalid(`error deleting policy ${name}: deletion is not allowed for this policy`);
      }
      await this.cache.write([name], () => this.store.delete(`policy/${name}`));
      return undefined;
    });
  }

  private async configureKey(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      const k = await this.key(name);
      if (!k) throw invalid(`no existing key named ${name} could be found`);
      const p = k.policy;
      if (f.auto_rotate_period) throw invalid('auto_rotate_period is not supported: rotate with keys/<name>/rotate');
      const warnings: string[] = [];
      let minDec = (f.min_decryption_version as number | undefined) ?? p.min_decryption_version;
      if (minDec <= 0) {
        minDec = 1;
        warnings.push('since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1');
      }
      if (minDec > p.latest_version) {
        throw invalid(`cannot set min decryption version of ${minDec}, latest key version is ${p.latest_version}`);
      }
      const minEnc = (f.min_encryption_version as number | undefined) ?? p.min_encryption_version;
      if (minEnc < 0) throw invalid('min encryption version cannot be negative');
      if (minEnc > p.latest_version) {
        throw invalid(`cannot set min encryption version of ${minEnc}, latest key version is ${p.latest_version}`);
      }
      if (minEnc > 0 && minEnc < minDec) {
        throw invalid(
          `cannot set min encryption/decryption values; min encryption version of ${minEnc} must be greater than or equal to min decryption version of ${minDec}`,
        );
      }
      if (p.exportable && f.exportable === false) throw invalid('exportability cannot be disabled after enabled');
      if (p.allow_plaintext_backup && f.allow_plaintext_backup === false) {
        throw invalid('allow_plaintext_backup cannot be disabled after enabled');
      }
      const next = k.with({
        min_decryption_version: minDec,
        min_encryption_version: minEnc,
        deletion_allowed: (f.deletion_allowed as boolean | undefined) ?? p.deletion_allowed,
        exportable: p.exportable || f.exportable === true,
        ...(p.allow_plaintext_backup || f.allow_plaintext_backup === true ? { allow_plaintext_backup: true } : {}),
      });
      await this.save(next);
      return { data: next.describe(), ...(warnings.length ? { warnings } : {}) };
    });
  }

  private async rotateKey(name: string): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      const k = await this.key(name);
      if (!k) throw invalid('key not found');
      const next = await k.rotated();
      await this.save(next);
      return { data: next.describe() };
    });
  }

  private async exportKey(params: Record<string, string>): Promise<HandlerResult> {
    const kind = params.kind as 'encryption-key' | 'signing-key' | 'hmac-key' | 'public-key';
    const k = await this.key(params.name as string);
    if (!k) return null;
    if (kind !== 'public-key' && !k.policy.exportable) throw invalid('private key material is not exportable');
    let versions = k.liveVersions();
    if (params.version) {
      const v = params.version === 'latest' ? k.policy.latest_version : Number(params.version);
      if (!versions.includes(v)) throw invalid('version not found');
      versions = [v];
    }
    const keys: Record<string, string> = {};
    for (const v of versions) {
      const material = k.exported(kind, v);
      if (material === undefined) throw invalid(`${kind} not supported for key type ${k.type}`);
      keys[String(v)] = material;
    }
    return { data: { name: k.name, type: k.type, keys } };
  }

  private async backupKey(name: string): Promise<HandlerResult> {
    const k = await this.key(name);
    if (!k) throw invalid(`no key named "${name}" found`);
    if (!k.policy.allow_plaintext_backup || !k.policy.exportable) {
      throw invalid(
        'plaintext backup is disallowed on the policy: create it with exportable and allow_plaintext_backup',
      );
    }
    const doc = { format: BACKUP_FORMAT, policy: k.policy };
    return { data: { backup: Buffer.from(JSON.stringify(doc)).toString('base64') } };
  }

  private async restoreKey(urlName: string | undefined, f: Record<string, unknown>): Promise<HandlerResult> {
    const text = (f.backup as string | undefined) ?? '';
    if (!text) throw invalid("'backup' must be supplied");
    const raw = decodeBase64(text);
    let doc: { format?: unknown; policy?: StoredKey } | undefined;
    try {
      doc = raw ? (JSON.parse(raw.toString('utf8')) as typeof doc) : undefined;
    } catch {
      doc = undefined;
    }
    const p = doc?.policy;
    if (doc?.format !== BACKUP_FORMAT || !p || typeof p !== 'object' || !isKeyType(p.type) || !p.versions) {
      throw invalid('failed to restore the key: not a backup made by svault transit');
    }
    const name = urlName ?? ((f.name as string | undefined) || p.name);
    checkName(name);
    if (!Number.isInteger(p.latest_version) || !p.versions[String(p.latest_version)]) {
      throw invalid('failed to restore the key: the backup has no latest version');
    }
    checkKeyMaterial(p);
    return this.locks.run(name, async () => {
      if ((await this.key(name)) && f.force !== true) {
        throw invalid(`key "${name}" already exists: restore with force=true to replace it`);
      }
      await this.save(new TransitKey({ ...p, name }));
      return undefined;
    });
  }

  private async mountConfig(): Promise<MountConfig> {
    if (!this.config) {
      const raw = await this.store.get('config/keys');
      this.config = raw ? (JSON.parse(Buffer.from(raw).toString('utf8')) as MountConfig) : { disable_upsert: false };
    }
    return this.config;
  }

  private async writeMountConfig(f: Record<string, unknown>): Promise<HandlerResult> {
    const next = { ...(await this.mountConfig()) };
    if (f.disable_upsert !== undefined) next.disable_upsert = f.disable_upsert as boolean;
    await this.store.put('config/keys', Buffer.from(JSON.stringify(next)));
    this.config = next;
    return { data: { ...next } };
  }

  // --- operations ---

  /** The key, or a 400. Hot paths look in the cache first: an async call per request costs. */
  private async requireKey(name: string, missing: string): Promise<TransitKey> {
    const k = await this.key(name);
    if (!k) throw invalid(missing);
    return k;
  }

  // Each operation handles a single request directly (its fields are the item) and a batch_input
  // item by item, with the same per-item function.

  private async encrypt(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    const name = r.params.name as string;
    const one = (k: TransitKey, it: Item, i: number) =>
      k.encrypt(
        decodePlaintext(it.plaintext),
        aadOf(k.type, it, i),
        (it.key_version as number | undefined) ?? 0,
        contextOf(k, it),
      );
    if (f.batch_input === undefined) {
      if (f.plaintext === undefined) throw invalid('missing plaintext to encrypt');
      const k = this.cache.peek(name) ?? (await this.key(name));
      if (k) return { data: one(k, f, 0) };
      decodePlaintext(f.plaintext); // bad input must not create the key either
      return { data: one(await this.upsert(name, f.type as string | undefined, Boolean(f.context)), f, 0) };
    }
    const items = batchItems(f, ['plaintext', 'context', 'associated_data', 'reference']);
    sameContext(items);
    let k = await this.key(name);
    if (!k) {
      if (!items.some((it) => decodeBase64((it.plaintext as string | undefined) ?? '') !== undefined)) {
        decodePlaintext(items[0]?.plaintext);
      }
      k = await this.upsert(name, f.type as string | undefined, Boolean(items[0]?.context));
    }
    const key = k;
    return batchResponse(
      f,
      items,
      runItems(items, (it, i) => one(key, it, i)),
    );
  }

  /** Encrypt's key creation, as Vault's: a request with a context creates a derived key. */
  private async upsert(name: string, type = 'aes256-gcm96', derived = false): Promise<TransitKey> {
    if ((await this.mountConfig()).disable_upsert) throw invalid('encryption key not found');
    checkName(name);
    if (!isKeyType(type)) throw invalid(`unknown key type ${type}`);
    if (!supportsEncryption(type)) throw invalid(`key type ${type} not supported for this operation`);
    return this.locks.run(name, async () => {
      const existing = await this.key(name);
      if (existing) return existing;
      const k = await TransitKey.create(name, {
        type,
        exportable: false,
        derived: derived && supportsDerivation(type),
      });
      await this.save(k);
      return k;
    });
  }

  private decrypt(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.onCiphertexts(r, f, (k, it, i) => ({
      plaintext: k.decrypt(it.ciphertext as string, aadOf(k.type, it, i), contextOf(k, it)).toString('base64'),
    }));
  }

  private rewrap(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.onCiphertexts(r, f, (k, it, i) => {
      const aad = aadOf(k.type, it, i);
      const context = contextOf(k, it);
      const plaintext = k.decrypt(it.ciphertext as string, aad, context);
      try {
        return k.encrypt(plaintext, aad, (it.key_version as number | undefined) ?? 0, context);
      } finally {
        plaintext.fill(0);
      }
    });
  }

  /** decrypt and rewrap: `one` for the ciphertext of the request, or for each of its batch items. */
  private async onCiphertexts(
    r: RoutedRequest,
    f: Record<string, unknown>,
    one: (k: TransitKey, it: Item, i: number) => Record<string, unknown>,
  ): Promise<HandlerResult> {
    const checked = (k: TransitKey, it: Item, i: number) => {
      if (!it.ciphertext) throw invalid('missing ciphertext to decrypt');
      return one(k, it, i);
    };
    const items =
      f.batch_input === undefined
        ? undefined
        : batchItems(f, ['ciphertext', 'context', 'associated_data', 'reference']);
    if (!items && !f.ciphertext) throw invalid('missing ciphertext to decrypt');
    if (items) sameContext(items);
    const name = r.params.name as string;
    const k = this.cache.peek(name) ?? (await this.requireKey(name, 'encryption key not found'));
    if (!items) return { data: checked(k, f, 0) };
    return batchResponse(
      f,
      items,
      runItems(items, (it, i) => checked(k, it, i)),
    );
  }

  private async datakey(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    const name = r.params.name as string;
    const kind = r.params.kind;
    if (kind !== 'plaintext' && kind !== 'wrapped') throw invalid("Invalid path, must be 'plaintext' or 'wrapped'");
    const bits = (f.bits as number | undefined) ?? 256;
    if (![128, 256, 512].includes(bits)) throw invalid('invalid bit length');
    const k = this.cache.peek(name) ?? (await this.requireKey(name, 'encryption key not found'));
    const dataKey = randomBytes(bits / 8);
    try {
      const wrapped = k.encrypt(
        dataKey,
        aadOf(k.type, f, 0),
        (f.key_version as number | undefined) ?? 0,
        contextOf(k, f),
      );
      return { data: { ...wrapped, ...(kind === 'plaintext' ? { plaintext: dataKey.toString('base64') } : {}) } };
    } finally {
      dataKey.fill(0);
    }
  }

  private async sign(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    const name = r.params.name as string;
    const opts = signOptions(r, f);
    const k = this.cache.peek(name) ?? (await this.requireKey(name, 'signing key not found'));
    if (!k.algorithm.signing) throw invalid(`key type ${k.type} does not support signing`);
    if (opts.prehashed && k.type !== 'ecdsa-p256') {
      throw invalid(`prehashed input is not supported for key type ${k.type}`);
    }
    const version = (f.key_version as number | undefined) ?? 0;
    const one = (it: Item) => k.sign(decodeInput(it.input), opts, version);
    if (f.batch_input === undefined) return { data: one(f) };
    const items = batchItems(f, ['input', 'context', 'reference']);
    return batchResponse(f, items, runItems(items, one), 'always');
  }

  private async verify(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    const batch = f.batch_input !== undefined;
    const items = batch ? batchItems(f, ['input', 'context', 'signature', 'hmac', 'reference']) : [f];
    const withSig = items.filter((it) => it.signature !== undefined).length;
    const withHmac = items.filter((it) => it.hmac !== undefined).length;
    if (!batch && withSig && withHmac) throw invalid("provide one of 'signature' or 'hmac'");
    if (!batch && !withSig && !withHmac) throw invalid("neither a 'signature' nor an 'hmac' were given to verify");
    if (withSig && withHmac) {
      throw invalid("elements of batch_input must all provide 'signature' or all provide 'hmac'");
    }
    if (withSig + withHmac < items.length) {
      if (withSig) throw invalid("some elements of batch_input are missing 'signature'");
      if (withHmac) throw invalid("some elements of batch_input are missing 'hmac'");
      throw invalid("no batch_input elements have 'signature' or 'hmac'");
    }
    const name = r.params.name as string;
    let one: (it: Item) => ItemResult;
    if (withHmac) {
      const hash = hashOf(r, f);
      const k = this.cache.peek(name) ?? (await this.requireKey(name, 'encryption key not found'));
      one = (it) => ({ valid: k.verifyHmac(decodeInput(it.input), it.hmac as string, hash) });
    } else {
      const opts = signOptions(r, f);
      const k = this.cache.peek(name) ?? (await this.requireKey(name, 'signature verification key not found'));
      if (!k.algorithm.signing) throw invalid(`key type ${k.type} does not support verification`);
      if (opts.prehashed && k.type !== 'ecdsa-p256') {
        throw invalid(`prehashed input is not supported for key type ${k.type}`);
      }
      one = (it) => ({ valid: k.verify(decodeInput(it.input), it.signature as string, opts) });
    }
    if (!batch) return { data: one(f) };
    return batchResponse(f, items, runItems(items, one), 'always');
  }

  private async hmac(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
    const name = r.params.name as string;
    const hash = hashOf(r, f);
    const k = this.cache.peek(name) ?? (await this.requireKey(name, 'encryption key not found'));
    const version = (f.key_version as number | undefined) ?? 0;
    const one = (it: Item) => ({ hmac: k.hmac(decodeInput(it.input), hash, version).hmac });
    if (f.batch_input === undefined) return { data: one(f) };
    const items = batchItems(f, ['input', 'reference']);
    return batchResponse(f, items, runItems(items, one), 'always');
  }
}

function checkName(name: string): void {
  if (name.length > MAX_NAME) throw invalid(`key name is longer than ${MAX_NAME} characters`);
}

/** batch_input's items, with Vault's checks: a list of objects whose known fields have the right types. */
function batchItems(f: Record<string, unknown>, stringFields: string[]): Item[] {
  const raw = f.batch_input as unknown[];
  if (raw.length === 0) throw invalid('missing batch input to process');
  return raw.map((it, i) => {
    if (!it || typeof it !== 'object' || Array.isArray(it)) {
      throw invalid(`failed to parse batch input: [${i}] expected a map, got '${typeName(it)}'`);
    }
    const item = it as Item;
    for (const name of stringFields) {
      const v = item[name];
      if (v !== undefined && v !== null && typeof v !== 'string') {
        throw invalid(`failed to parse batch input: '[${i}].${name}' expected type 'string', got '${typeName(v)}'`);
      }
    }
    const kv = item.key_version;
    if (kv !== undefined && kv !== null) {
      const n = typeof kv === 'string' && /^\d+$/.test(kv) ? Number(kv) : kv;
      if (typeof n !== 'number' || !Number.isInteger(n)) {
        throw invalid(`failed to parse batch input: '[${i}].key_version' expected type 'int', got '${typeName(kv)}'`);
      }
      return { ...item, key_version: n };
    }
    return item;
  });
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function sameContext(items: Item[]): void {
  const withContext = items.filter((it) => it.context).length;
  if (withContext !== 0 && withContext !== items.length) {
    throw invalid('context should be set either in all the request blocks or in none');
  }
}

/**
 * Authenticated data for AEAD keys: `associated_data` as Vault takes it, and `context` bound too
 * (Vault uses context only to derive keys, which svault does not do: binding it means a ciphertext
 * cannot be decrypted under another context). Length-prefixed so the two cannot be confused.
 */
function aadOf(type: KeyType, item: Item, i: number): Uint8Array {
  const ad = item.associated_data as string | undefined;
  const ctx = item.context as string | undefined;
  if (!ad && !ctx) return EMPTY;
  if (!supportsAssociatedData(type)) {
    if (ad) throw invalid(`'[${i}].associated_data' provided for non-AEAD cipher suite ${type}`);
    return EMPTY;
  }
  const adBytes = ad ? decodeBase64(ad) : EMPTY;
  if (!adBytes) throw invalid('failed to base64-decode associated_data');
  if (!ctx) return adBytes;
  const ctxBytes = decodeBase64(ctx);
  if (!ctxBytes) throw invalid('failed to base64-decode context');
  const out = Buffer.allocUnsafe(4 + ctxBytes.length + adBytes.length);
  out.writeUInt32BE(ctxBytes.length, 0);
  out.set(ctxBytes, 4);
  out.set(adBytes, 4 + ctxBytes.length);
  return out;
}

const EMPTY = new Uint8Array(0);

/** The decoded `context` of a derived key's request (undefined for other keys: they bind it as AAD). */
function contextOf(k: TransitKey, item: Item): Uint8Array | undefined {
  if (!k.policy.derived) return undefined;
  const ctx = item.context as string | undefined;
  if (!ctx) return undefined;
  const bytes = decodeBase64(ctx);
  if (!bytes) throw invalid('failed to base64-decode context');
  return bytes;
}

/** Base64 from a request field; `what` prefixes the error as Vault words it for that field. */
function decodeBase64Field(value: unknown, what = ''): Buffer {
  const text = (value as string | undefined) ?? '';
  const bytes = decodeBase64(text);
  if (!bytes) throw invalid(`${what}illegal base64 data at input byte ${base64ErrorAt(text)}`);
  return bytes;
}

const decodePlaintext = (plaintext: unknown) => decodeBase64Field(plaintext);
const decodeInput = (input: unknown) => decodeBase64Field(input, 'unable to decode input as base64: ');

function hashOf(r: RoutedRequest, f: Record<string, unknown>): string {
  const name = r.params.urlalgorithm || (f.hash_algorithm as string) || (f.algorithm as string) || 'sha2-256';
  const hash = HASHES[name];
  if (!hash) throw invalid(`invalid hash algorithm "${name}"`);
  return hash;
}

function signOptions(r: RoutedRequest, f: Record<string, unknown>): SignOptions {
  const hash = hashOf(r, f);
  const marshaling = (f.marshaling_algorithm as string | undefined) ?? 'asn1';
  if (marshaling !== 'asn1' && marshaling !== 'jws') throw invalid(`invalid marshaling type "${marshaling}"`);
  const algo = (f.signature_algorithm as string | undefined) || 'pss';
  if (algo !== 'pss' && algo !== 'pkcs1v15') throw invalid(`unsupported rsa signature algorithm ${algo}`);
  const salt = (f.salt_length as string | undefined) || 'auto';
  let saltLength: SignOptions['saltLength'];
  if (salt === 'auto' || salt === 'hash') saltLength = salt;
  else if (/^\d{1,4}$/.test(salt)) saltLength = Number(salt);
  else throw invalid(`salt length must be "auto", "hash", or an integer: got "${salt}"`);
  return { hash, marshaling, prehashed: f.prehashed === true, signatureAlgorithm: algo, saltLength };
}

interface Outcome {
  results: ItemResult[];
  succeeded: number;
  userErrors: number;
  internalErrors: number;
}

/** Runs each item of a batch, keeping each one's error in its result (as Vault does): the others still run. */
function runItems(items: Item[], run: (item: Item, i: number) => ItemResult): Outcome {
  const out: Outcome = { results: [], succeeded: 0, userErrors: 0, internalErrors: 0 };
  items.forEach((item, i) => {
    try {
      out.results.push(run(item, i));
      out.succeeded++;
    } catch (e) {
      const user = e instanceof VaultError && e.kind === 'invalid';
      if (user) out.userErrors++;
      else out.internalErrors++;
      out.results.push({ error: user ? e.message : 'internal error' });
    }
  });
  return out;
}

/**
 * `batch_results`, each with its `reference`. A batch with failed items answers 400 (500 for
 * internal errors), or `partial_failure_response_code` when some items succeeded; sign, verify and
 * HMAC batches answer 200 either way, as in Vault.
 */
function batchResponse(
  f: Record<string, unknown>,
  items: Item[],
  outcome: Outcome,
  failureStatus: 'vault' | 'always' = 'vault',
): HandlerResult {
  const batch_results = outcome.results.map((res, i) => ({ ...res, reference: items[i]?.reference ?? '' }));
  const failed = outcome.userErrors + outcome.internalErrors > 0;
  if (!failed || failureStatus === 'always') return { data: { batch_results } };
  let status = outcome.userErrors > 0 ? 400 : 500;
  const override = f.partial_failure_response_code as number | undefined;
  const warnings: string[] = [];
  if (override !== undefined && outcome.succeeded > 0) {
    if (override >= 1 && override <= 599) status = override;
    else
      warnings.push(`invalid HTTP response code override from partial_failure_response_code, reverting to ${status}`);
  }
  if (status === 200) return { data: { batch_results } };
  throw new BatchError(status, { data: { batch_results }, ...(warnings.length ? { warnings } : {}) });
}

const BACKUP_FORMAT = 'svault-transit-backup-v1';
const MAX_RANDOM_BYTES = 128 * 1024;

/** `random`: bytes from node:crypto's CSPRNG (every source is the platform's here). */
async function randomData(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
  let bytes = (f.bytes as number | undefined) ?? 32;
  const url = r.params.urlbytes;
  if (url !== undefined) {
    if (!/^\d+$/.test(url)) throw invalid(`error parsing bytes in url: "${url}"`);
    bytes = Number(url);
  }
  if (bytes < 1) throw invalid('bytes must be greater than 0');
  if (bytes > MAX_RANDOM_BYTES) throw invalid(`exceeded maximum allowed bytes (${MAX_RANDOM_BYTES})`);
  const format = (f.format as string | undefined) ?? 'base64';
  if (format !== 'base64' && format !== 'hex')
    throw invalid(`unsupported encoding format ${format}; must be "hex" or "base64"`);
  const source = r.params.source ?? (f.source as string | undefined) ?? 'platform';
  if (!['platform', 'seal', 'all'].includes(source)) throw invalid(`unsupported entropy source ${source}`);
  return { data: { random_bytes: randomBytes(bytes).toString(format) } };
}

/** `hash`: a digest of base64 input, hex or base64. */
async function hashData(r: RoutedRequest, f: Record<string, unknown>): Promise<HandlerResult> {
  const name = r.params.urlalgorithm || (f.algorithm as string | undefined) || 'sha2-256';
  const hash = HASHES[name];
  if (!hash) throw invalid(`unsupported hash algorithm ${name}`);
  const format = (f.format as string | undefined) ?? 'hex';
  if (format !== 'hex' && format !== 'base64')
    throw invalid(`unsupported encoding format ${format}; must be "hex" or "base64"`);
  const input = decodeBase64Field(f.input, 'unable to decode input as base64: ');
  return { data: { sum: createHash(hash).update(input).digest(format) } };
}

export const transitFactory: BackendFactory = ({ store }) => new TransitBackend(store);
