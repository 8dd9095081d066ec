import { timingSafeEqual } from 'node:crypto';
import { randomKey } from './crypto.js';
import { invalid } from './errors.js';
import type { Storage, StorageOp } from './storage.js';

/**
 * The Shamir seal: the root key is split into `shares` unseal keys, any `threshold` of which
 * rebuild it. 1-of-1 is special-cased as in Vault (the library needs two shares or more):
 * the single unseal key is the root key itself.
 */
export interface SealConfig {
  type: 'shamir';
  secret_shares: number;
  secret_threshold: number;
}

const CONFIG_PATH = 'core/seal-config';
const ROOT_KEY_LEN = 32;

export async function readSealConfig(storage: Storage): Promise<SealConfig | undefined> {
  const raw = await storage.get(CONFIG_PATH);
  return raw ? (JSON.parse(Buffer.from(raw).toString('utf8')) as SealConfig) : undefined;
}

export async function writeSealConfig(storage: Storage, cfg: SealConfig): Promise<void> {
  const op = sealConfigWrite(cfg);
  await storage.put(op.key, op.value);
}

/** The write of a seal configuration, for a batch that must switch it together with the keyring (rekey). */
export function sealConfigWrite(cfg: SealConfig): StorageOp & { op: 'put' } {
  return { op: 'put', key: CONFIG_PATH, value: new Uint8Array(Buffer.from(JSON.stringify(cfg))) };
}

export function validateSealConfig(shares: number, threshold: number): void {
  const int = (n: number) => Number.isInteger(n);
  if (!int(shares) || !int(threshold)) throw invalid('secret_shares and secret_threshold must be integers');
  if (shares < 1) throw invalid('invalid seal configuration: shares must be at least one');
  if (threshold < 1) throw invalid('invalid seal configuration: threshold must be at least one');
  if (shares > 255) throw invalid('invalid seal configuration: shares must be at most 255');
  if (threshold > shares) throw invalid('invalid seal configuration: threshold cannot be larger than shares');
  if (shares > 1 && threshold === 1) {
    throw invalid('invalid seal configuration: threshold must be greater than one for multiple shares');
  }
}

/** A new root key and its unseal keys. */
export async function generateShares(
  shares: number,
  threshold: number,
): Promise<{ rootKey: Uint8Array; keys: Uint8Array[] }> {
  validateSealConfig(shares, threshold);
  const rootKey = randomKey();
  if (shares === 1) return { rootKey, keys: [new Uint8Array(rootKey)] };
  const { split } = await import('shamir-secret-sharing');
  return { rootKey, keys: await split(rootKey, shares, threshold) };
}

/** Parses an unseal key as Vault does: hex first, then base64. */
export function parseUnsealKey(text: string, cfg: SealConfig): Uint8Array {
  const s = text.trim();
  let bytes: Uint8Array | undefined;
  if (/^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0) bytes = new Uint8Array(Buffer.from(s, 'hex'));
  else if (/^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0) bytes = new Uint8Array(Buffer.from(s, 'base64'));
  if (!bytes) throw invalid("'key' must be a valid hex or base64 string");
  const want = cfg.secret_shares === 1 ? ROOT_KEY_LEN : ROOT_KEY_LEN + 1;
  if (bytes.length !== want) throw invalid(`invalid key: expected ${want} bytes, got ${bytes.length}`);
  return bytes;
}

/**
 * Unseal keys entered so far. A key that is malformed or already entered is refused and
 * does not count. When the threshold is reached the caller verifies the combined key; if
 * it is wrong, progress is reset (Vault does the same: one wrong key among K cannot be
 * singled out).
 */
export class UnsealProgress {
  private shares: Uint8Array[] = [];

  get count(): number {
    return this.shares.length;
  }

  reset(): void {
    for (const s of this.shares) s.fill(0);
    this.shares = [];
  }

  /** Adds a key; returns the root key candidate once `threshold` keys are in. */
  async add(key: Uint8Array, cfg: SealConfig): Promise<Uint8Array | undefined> {
    for (const s of this.shares) {
      if (s.length === key.length && timingSafeEqual(s, key))
        throw invalid('duplicate unseal key: it was already entered');
      // Same x-coordinate, different bytes: a damaged copy of a share already entered.
      if (cfg.secret_shares > 1 && s[s.length - 1] === key[key.length - 1]) {
        throw invalid('invalid unseal key: a key with the same share index was already entered');
      }
    }
    this.shares.push(key);
    if (this.shares.length < cfg.secret_threshold) return undefined;
    const shares = this.shares;
    this.shares = [];
    if (cfg.secret_shares === 1) return shares[0];
    const { combine } = await import('shamir-secret-sharing');
    const root = await combine(shares);
    for (const s of shares) s.fill(0);
    return root;
  }
}
