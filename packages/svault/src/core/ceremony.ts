import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { invalid } from './errors.js';
import { parseUnsealKey, type SealConfig, UnsealProgress, validateSealConfig } from './seal.js';

/**
 * The operator procedures that take a quorum of unseal keys while unsealed, as Vault's
 * sys/generate-root/* (a new root token, handed out XORed with a one-time password) and sys/rekey/*
 * (new unseal keys, possibly a new count and threshold; the old ones stop working). Each is one
 * attempt at a time, identified by a nonce; keys are checked against the root key in memory once
 * the threshold is reached, and a wrong quorum resets the attempt's progress.
 */
export class KeyCeremony {
  readonly nonce = randomUUID();
  private readonly progress = new UnsealProgress();

  constructor(private readonly cfg: SealConfig) {}

  get count(): number {
    return this.progress.count;
  }

  /** Adds a key; returns true once the quorum rebuilt `rootKey`. */
  async add(key: unknown, nonce: unknown, rootKey: Uint8Array): Promise<boolean> {
    if (typeof nonce !== 'string' || nonce === '') throw invalid('missing nonce');
    if (nonce !== this.nonce) throw invalid('incorrect nonce');
    if (typeof key !== 'string' || key === '') throw invalid("'key' must be specified in request body as JSON");
    const candidate = await this.progress.add(parseUnsealKey(key, this.cfg), this.cfg);
    if (!candidate) return false;
    const ok = candidate.length === rootKey.length && timingSafeEqual(candidate, rootKey);
    candidate.fill(0);
    if (!ok)
      throw invalid('the unseal keys given do not rebuild the root key: progress reset, start over with correct keys');
    return true;
  }

  cancel(): void {
    this.progress.reset();
  }
}

/** A one-time password as long as a root token (`hvs.` and 32 characters): the token is XORed with it. */
export const ROOT_TOKEN_LENGTH = 36;

export function newOtp(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (const b of randomBytes(ROOT_TOKEN_LENGTH * 2)) {
    if (b < 248 && out.length < ROOT_TOKEN_LENGTH) out += alphabet[b % 62];
  }
  return out.length === ROOT_TOKEN_LENGTH ? out : newOtp();
}

/** Vault's encoded_token: the token XOR the OTP, base64 without padding (`vault operator generate-root -decode`). */
export function encodeRootToken(token: string, otp: string): string {
  const t = Buffer.from(token);
  const o = Buffer.from(otp);
  if (t.length !== o.length) throw invalid('OTP string is wrong length');
  const x = Buffer.alloc(t.length);
  for (let i = 0; i < t.length; i++) x[i] = (t[i] as number) ^ (o[i] as number);
  return x.toString('base64').replace(/=+$/, '');
}

export function checkRekeyConfig(shares: unknown, threshold: unknown): SealConfig {
  if (typeof shares !== 'number' || typeof threshold !== 'number') {
    throw invalid('secret_shares and secret_threshold are required (integers)');
  }
  validateSealConfig(shares, threshold);
  return { type: 'shamir', secret_shares: shares, secret_threshold: threshold };
}
